/**
 * Who may reach the REST API, on top of Liberty's own security (web.xml's roles, server.xml's
 * {@code api-access-*.xml} bindings, Basic and MicroProfile JWT logins): {@link
 * io.compozy.cache.web.access.ApiAccessGuard} refuses what the container would let through by design (an
 * open API reached off loopback, a foreign {@code Host} on loopback, a cross-site change) and {@link
 * io.compozy.cache.web.access.AdminAudit} writes one line per administrative call. docs/security.md.
 */
package io.compozy.cache.web.access;
