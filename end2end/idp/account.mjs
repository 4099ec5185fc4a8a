// The one user of the stand-in, shaped like a FusionAuth user registered to
// the tutorial's application, and whether it is active (FusionAuth's soft
// delete deactivates a user; reactivation undoes it).
import { timingSafeEqual, createHash } from 'node:crypto';

// FusionAuth's default tenant id is random per install; the kickstart pins it
// (variables.defaultTenantId), and so does the stand-in.
export const TENANT_ID = 'd7d09513-a3f5-401c-9685-34ab6c552453';

// The kickstart's demo user (kickstart/kickstart.json: variables.demoUserId
// and its create-and-register request); check-flow.mjs holds the two equal.
export const USER = Object.freeze({
  id: '00000000-0000-0000-0000-111111111111',
  loginId: 'richard@example.com',
  password: 'password',
  email: 'richard@example.com',
  givenName: 'Richard',
  familyName: 'Hendricks',
});

// Scope -> claims, as FusionAuth releases them. `openid` carries the
// FusionAuth extras that are present whatever the scope. No
// `preferred_username`: FusionAuth fills it only from the user's username,
// and the kickstart's demo user has none (it logs in with its email).
export const CLAIMS_BY_SCOPE = {
  openid: ['sub', 'tid', 'authenticationType', 'sid', 'applicationId', 'roles'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name'],
};

// Only in the access token and userinfo since FusionAuth 1.24, never in the id_token.
const NOT_IN_ID_TOKEN = new Set(['applicationId', 'roles']);

function digest(value) {
  return createHash('sha256').update(String(value)).digest();
}

/**
 * The user's state for one provider: its active flag, the credential check,
 * oidc-provider's `findAccount` and the user as FusionAuth's APIs and events
 * show it. A deactivated user is unknown to the OIDC side: it cannot log in,
 * and its refresh and access tokens find no account (invalid_grant, 401).
 */
export function createUsers(clientId) {
  let active = true;

  /** Constant-time credential check (compares digests, so lengths never leak). */
  function checkCredentials(loginId, password) {
    const idOk = timingSafeEqual(
      digest(String(loginId ?? '').trim().toLowerCase()),
      digest(USER.loginId),
    );
    const passwordOk = timingSafeEqual(digest(password ?? ''), digest(USER.password));
    return idOk && passwordOk && active ? USER.id : undefined;
  }

  async function findAccount(_ctx, sub, token) {
    if (sub !== USER.id || !active) return undefined;
    return {
      accountId: USER.id,
      async claims(use) {
        const all = {
          sub: USER.id,
          tid: TENANT_ID,
          authenticationType: 'PASSWORD',
          // FusionAuth's sid names the SSO session; the provider's session uid
          // is the same idea. The authorization code carries it to the token call.
          sid: token?.sessionUid,
          applicationId: clientId,
          roles: [],
          email: USER.email,
          email_verified: true,
          name: `${USER.givenName} ${USER.familyName}`,
          given_name: USER.givenName,
          family_name: USER.familyName,
        };
        if (use === 'id_token') {
          for (const key of NOT_IN_ID_TOKEN) delete all[key];
        }
        if (all.sid === undefined) delete all.sid;
        return all;
      },
    };
  }

  /** The user object of FusionAuth's User API and events (no password: User#secure()). */
  function fusionAuthUser() {
    return {
      active,
      email: USER.email,
      firstName: USER.givenName,
      fullName: `${USER.givenName} ${USER.familyName}`,
      id: USER.id,
      lastName: USER.familyName,
      passwordChangeRequired: false,
      registrations: [{ applicationId: clientId, roles: [], usernameStatus: 'ACTIVE', verified: true }],
      tenantId: TENANT_ID,
      usernameStatus: 'ACTIVE',
      verified: true,
    };
  }

  return {
    checkCredentials,
    findAccount,
    fusionAuthUser,
    exists: (id) => id === USER.id,
    isActive: (id) => id === USER.id && active,
    setActive(value) { active = value; },
  };
}
