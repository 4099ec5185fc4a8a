// Refresh tokens as FusionAuth keeps them: revocable per user or one by one
// (the admin API), and, with refreshTokenUsagePolicy OneTimeUse, deleted once
// used.
//
// oidc-provider's in-memory store cannot list tokens by user, so the live
// refresh tokens are followed through the provider's events.

export function createRefreshTokens(provider, { policy }) {
  // Token value (opaque tokens are their own jti) -> account id.
  const live = new Map();
  provider.on('refresh_token.saved', (token) => live.set(token.jti, token.accountId));
  provider.on('refresh_token.destroyed', (token) => live.delete(token.jti));

  if (policy === 'OneTimeUse') {
    // With rotation, oidc-provider only marks the used token consumed, and a
    // second use revokes the whole grant, the new refresh token included
    // (replay detection). FusionAuth deletes the used token: a second use is
    // a plain invalid_grant and the new token stays valid. So delete it too.
    provider.on('refresh_token.consumed', (token) => {
      token.destroy().catch((err) => {
        process.stderr.write(`stand-in: could not delete a used refresh token: ${err.message}\n`);
      });
    });
  }

  /** Deletes one token: the token, or undefined when it was not valid (unknown, used, revoked or expired). */
  async function destroy(value) {
    live.delete(value);
    const token = await provider.RefreshToken.find(value);
    if (token) await token.destroy();
    return token;
  }

  return {
    /** Revokes one refresh token: `{ userId, clientId }`, or undefined when it was not valid. */
    async revokeToken(value) {
      const token = await destroy(value);
      return token && { userId: token.accountId, clientId: token.clientId };
    },

    /** Revokes every refresh token of a user: the client id of each token revoked. */
    async revokeForUser(userId) {
      const values = [...live].filter(([, accountId]) => accountId === userId).map(([value]) => value);
      const revoked = await Promise.all(values.map(destroy));
      return revoked.filter(Boolean).map((token) => token.clientId);
    },
  };
}
