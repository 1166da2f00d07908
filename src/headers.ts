// Headers as callers give them: for the options and for the dial layer's proxy headers,
// which options.ts itself depends on (so the type lives below both).

/** Header values as callers give them. `undefined` entries are skipped. */
export type HeaderValue = string | number | readonly string[] | undefined;
export type Headers = Readonly<Record<string, HeaderValue>>;
