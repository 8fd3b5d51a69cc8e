// A Chromium virtual authenticator per browser context, through the DevTools protocol, so the
// tests create and use real passkeys without hardware.

const sessions = new WeakMap();

// One DevTools session per page, so that several authenticators share its WebAuthn environment.
async function devtools(page) {
  if (!sessions.has(page)) {
    const client = await page.context().newCDPSession(page);
    await client.send('WebAuthn.enable');
    sessions.set(page, client);
  }
  return sessions.get(page);
}

export async function addVirtualAuthenticator(page, { userVerified = true, transport = 'internal' } = {}) {
  const client = await devtools(page);
  const { authenticatorId } = await client.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport,
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: userVerified,
      automaticPresenceSimulation: true,
    },
  });
  return {
    async setUserVerified(isUserVerified) {
      await client.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified });
    },
    // Stops this authenticator from responding by itself, as if no user touched it.
    async setPresence(enabled) {
      await client.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
    },
    async credentialCount() {
      const { credentials } = await client.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials.length;
    },
  };
}

// Returns the link of an environment variable that scripts/test fills from `nurture create-admin`.
export function adminLink(name) {
  const link = process.env[name];
  if (!link) throw new Error(`${name} is not set; run the browser tests through scripts/test`);
  return link;
}
