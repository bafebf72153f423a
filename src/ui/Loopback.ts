/**
 * Which addresses keep the web UI on this machine.
 *
 * @since 0.1.0
 */

/**
 * Whether a host name or address (an IPv6 one with or without brackets) reaches this machine only.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isLoopback = (host: string): boolean => {
  const name = unbracket(host).toLowerCase()
  return name === "localhost" || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name)
}

/**
 * An IPv6 address without the brackets of a URL or `Host` header.
 *
 * @since 0.1.0
 * @category formatting
 */
export const unbracket = (host: string): string => host.replace(/^\[(.*)\]$/, "$1")
