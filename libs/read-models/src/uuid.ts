/** A UUID in its canonical text form (RFC 9562 §4: 8-4-4-4-12 hex digits, any case), for path parameters and ids read from events. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
