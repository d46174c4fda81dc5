// Client-rendered app: data comes from the APIs in the browser (their URLs derive from location.hostname),
// and the session is restored in the browser from the HttpOnly refresh cookie (lib/session.svelte.ts). Every route
// still works when opened directly by URL.
export const ssr = false;
export const prerender = false;
