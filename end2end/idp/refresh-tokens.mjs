// Refresh tokens as FusionAuth keeps them: with refreshTokenUsagePolicy
// OneTimeUse, deleted once used.

export function createRefreshTokens(provider, { policy }) {
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
}
