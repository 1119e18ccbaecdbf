/**
 * The value of cookie `name` in a `Cookie` header, first occurrence, as sent; `undefined` when it
 * is absent. Narrower than a general cookie parser on purpose: it runs on every request, and its
 * answer is only ever a cache key or the input of an unseal that checks iron's exact format, so it
 * neither validates nor decodes (a seal has no characters that need it). Hono's parser costs about
 * a tenth of a warm request here.
 */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (header == null || header.indexOf(name) === -1) return undefined
  let start = 0
  while (start < header.length) {
    let end = header.indexOf(';', start)
    if (end === -1) end = header.length
    const equals = header.indexOf('=', start)
    if (equals !== -1 && equals < end && header.slice(start, equals).trim() === name) return header.slice(equals + 1, end).trim()
    start = end + 1
  }
  return undefined
}
