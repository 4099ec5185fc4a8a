// Reading an application/x-www-form-urlencoded request body: the login form,
// and the admin API's refresh token (FusionAuth accepts it in the body so that
// it stays out of access logs).
import { errors } from 'oidc-provider';

const MAX_FORM_BYTES = 16 * 1024;

export async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new errors.InvalidRequest('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
