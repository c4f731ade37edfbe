// An OpenID Provider for the single sign-on tests: the certified `oidc-provider` with its
// development sign-in pages (any login name; the accounts and their claims come from
// IDP_ACCOUNTS). Started on loopback by tests/oidc_idp.py, which reads the first line:
// "listening <issuer>".
//
// IDP_TAMPER=1 makes it an attacker in the middle of the token response: the ID token's
// payload names another subject but keeps the original signature, which must be refused.
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT || 0);
const clients = JSON.parse(process.env.IDP_CLIENTS || '[]');
const accounts = JSON.parse(process.env.IDP_ACCOUNTS || '{}');
const tamper = process.env.IDP_TAMPER === '1';

function base64url(value) {
  return Buffer.from(value).toString('base64url');
}

function tampered(idToken) {
  const [header, payload, signature] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  claims.sub = `${claims.sub}-forged`;
  claims.email = 'owner@victim.test';
  return [header, base64url(JSON.stringify(claims)), signature].join('.');
}

async function start() {
  // Bind first so that the issuer names the real port.
  const http = await import('node:http');
  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  // IDP_ISSUER: a provider that names another issuer than where it answers (a mix-up).
  const issuer = process.env.IDP_ISSUER || `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients,
    cookies: { keys: ['cloudsignal-test-idp-cookie-key'] },
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'groups'],
    },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { ...account, sub: id };
        },
      };
    },
  });
  provider.proxy = false;

  if (tamper) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/token' && ctx.body && ctx.body.id_token) {
        ctx.body = { ...ctx.body, id_token: tampered(ctx.body.id_token) };
      }
    });
  }

  server.on('request', provider.callback());
  process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`);
}

start().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
