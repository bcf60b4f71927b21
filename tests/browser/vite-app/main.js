import { pkcePair, codeChallenge, Client } from 'tokenward';
const p = pkcePair();
const c = new Client({ url: 'http://127.0.0.1:9', realm: 'vion', clientId: 'vion-spa', redirectUri: `${location.origin}/callback` });
const url = new URL(c.authorizationUrl());
document.querySelector('#out').textContent = JSON.stringify({
  ok: codeChallenge(p.verifier) === p.challenge && url.searchParams.get('code_challenge_method') === 'S256',
});
