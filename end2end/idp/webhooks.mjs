// FusionAuth's webhook: events POSTed as JSON to each URL, signed the way
// FusionAuth signs them, and a record of every delivery for tests.
//
// The signature follows FusionAuth's WebhookEventSender#jwtSignature: a JWT
// whose ONLY claim is `request_body_sha256` (standard, padded base64 of the
// SHA-256 of the exact body bytes), signed with the webhook's Key Master key;
// no iat, no exp. The key here is an HMAC key: HS256 over the secret's UTF-8
// bytes (fusionauth-jwt HMACSigner), with the key's id as `kid`.
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

export const SIGNATURE_HEADER = 'X-FusionAuth-Signature-JWT';

// Each URL gets this long to answer; a slow receiver must not hang the admin API.
const DELIVERY_TIMEOUT_MS = 2000;
const MAX_DELIVERIES = 1000;

export function bodySha256(body) {
  return createHash('sha256').update(body).digest('base64');
}

export function signBody(body, { signingSecret, signingKeyId }) {
  return new SignJWT({ request_body_sha256: bodySha256(body) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: signingKeyId })
    .sign(new TextEncoder().encode(signingSecret));
}

/**
 * `send(type, fields)` builds the event (FusionAuth's BaseEvent fields plus
 * `fields`), delivers it to every URL at once and resolves when each has
 * answered, failed or timed out, so the admin API answers only once the app
 * has been told. A failed delivery is logged and recorded, never thrown:
 * FusionAuth's default event transaction setting ignores webhook failures.
 */
export function createWebhooks({ urls, signingSecret, signingKeyId }, { tenantId }) {
  let deliveries = [];

  function record(delivery) {
    deliveries.push(delivery);
    if (deliveries.length > MAX_DELIVERIES) deliveries.shift();
  }

  async function deliver(url, event, body, signature) {
    const delivery = { url, type: event.type, eventId: event.id, status: null };
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: signature },
        body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      delivery.status = res.status;
      if (!res.ok) delivery.error = `HTTP ${res.status}`;
    } catch (err) {
      delivery.error = err.name === 'TimeoutError' ? `no answer within ${DELIVERY_TIMEOUT_MS} ms` : (err.cause?.code ?? err.message);
    }
    if (delivery.error) {
      process.stderr.write(`stand-in webhook: ${event.type} to ${url} failed: ${delivery.error}\n`);
    }
    record(delivery);
  }

  return {
    async send(type, fields) {
      const event = { id: randomUUID(), createInstant: Date.now(), type, tenantId, info: {}, ...fields };
      const body = Buffer.from(JSON.stringify({ event }), 'utf8');
      const signature = await signBody(body, { signingSecret, signingKeyId });
      await Promise.all(urls.map((url) => deliver(url, event, body, signature)));
    },
    deliveries: () => deliveries,
    reset() { deliveries = []; },
  };
}
