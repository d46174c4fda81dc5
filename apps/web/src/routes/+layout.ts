// Client-rendered app: data comes from the APIs in the browser (their URLs derive from location.hostname),
// and the session lives in localStorage. Every route still works when opened directly by URL.
export const ssr = false;
export const prerender = false;
