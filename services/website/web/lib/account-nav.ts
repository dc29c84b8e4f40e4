/** The header's account link: "Sign in" or the user with "Sign out". */
import { accountWrite, me, type Me } from './api.ts';
import { h } from './dom.ts';

export async function showAccount(): Promise<Me | undefined> {
  const slot = document.getElementById('account-nav');
  const user = await me().catch(() => undefined);
  if (slot === null || user === undefined) return user;
  const signOut = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOut.addEventListener('click', () => {
    void accountWrite('/account/signout').finally(() => location.assign('/'));
  });
  slot.replaceChildren(h('span', { class: 'user' }, user.email ?? user.userId), ' ', signOut);
  return user;
}

/** Where a page that needs an account sends a visitor who has none: back here after signing in. */
export function signInUrl(): string {
  return `/signin?${new URLSearchParams({ next: location.pathname + location.search })}`;
}
