/** Sign in (`/signin`) and sign up (`/signup`): then back to the page that asked (`?next=`), or to My listings. */
import './styles.css';
import { accountWrite, RequestError } from './lib/api.ts';
import { showAccount } from './lib/account-nav.ts';
import { byId, clearFieldErrors, setStatus, showFieldErrors, type FieldError } from './lib/dom.ts';

const form = byId<HTMLFormElement>('account-form');
const signUp = form.dataset.mode === 'signup';

/** Only a path of this site: `?next=https://evil.example` goes to My listings. */
function nextPage(): string {
  const next = new URLSearchParams(location.search).get('next') ?? '';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/my';
}

for (const link of form.querySelectorAll<HTMLAnchorElement>('a[href^="/sign"]')) link.search = location.search;

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  const email = byId<HTMLInputElement>('email').value.trim();
  const password = byId<HTMLInputElement>('password').value;
  const errors: FieldError[] = [];
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) errors.push({ field: 'email', rule: 'must be an email address' });
  if (password === '') errors.push({ field: 'password', rule: 'is required' });
  else if (signUp && [...password].length < 12) errors.push({ field: 'password', rule: 'must be at least 12 characters' });
  if (errors.length > 0) {
    showFieldErrors(form, errors);
    return;
  }
  setStatus(signUp ? 'Creating your account…' : 'Signing in…');
  try {
    await accountWrite(signUp ? '/account/signup' : '/account/signin', { email, password });
    location.assign(nextPage());
  } catch (error) {
    setStatus('');
    if (error instanceof RequestError && error.errors.length > 0) showFieldErrors(form, error.errors, { credentials: 'password' });
    else showFieldErrors(form, [{ field: 'form', rule: (error as Error).message }]);
  }
});

void showAccount();
