package io.compozy.cache.web.access;

import io.compozy.cache.web.rest.ApiProblem;
import jakarta.annotation.Priority;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Runs on every API call, after the container's login and role checks: refuses with 503 an open API
 * ({@value ApiAccess#ACCESS_KEY}=open) reached on an address that is not loopback, so opening the HTTP
 * endpoint never opens the API by accident; with {@value ApiAccess#ACCESS_KEY}=login, a request without a login
 * (stale role bindings) with 503; on loopback, a Host that is not this server's (DNS rebinding) with 403; and
 * a change sent by another site's page with 403, or to the admin calls as a plain form with 415.
 */
@Provider
@PreMatching
@Priority(Priorities.AUTHENTICATION)
public class ApiAccessGuard implements ContainerRequestFilter {

    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");

    private final Optional<ApiAccess> access;
    private final String misconfigured;

    @Context
    private HttpServletRequest servlet;

    /** The server's instance: the settings come from MicroProfile Config (server.xml variables included). */
    public ApiAccessGuard() {
        Config config = ConfigProvider.getConfig();
        ApiAccess read = null;
        String error = null;
        try {
            read = ApiAccess.of(config.getOptionalValue(ApiAccess.ACCESS_KEY, String.class),
                    config.getOptionalValue(ApiAccess.ALLOWED_HOSTS_KEY, String.class));
        } catch (IllegalArgumentException e) {
            error = e.getMessage();
        }
        this.access = Optional.ofNullable(read);
        this.misconfigured = error;
    }

    @Override
    public void filter(final ContainerRequestContext request) {
        if (access.isEmpty()) {
            throw new ApiProblem(Response.Status.SERVICE_UNAVAILABLE, "api-access-invalid", "API access not configured",
                    misconfigured + "; the API serves nothing until it is fixed (docs/security.md)");
        }
        // Host in HTTP/1.1; HTTP/2 (Java's client upgrades to h2c) sends :authority, the request URI's.
        String host = Optional.ofNullable(request.getHeaderString("Host"))
                .orElse(request.getUriInfo().getRequestUri().getRawAuthority());
        boolean loopback = ApiAccess.isLoopback(servlet.getLocalAddr());
        if (access.get().open() && !loopback) {
            throw new ApiProblem(Response.Status.SERVICE_UNAVAILABLE, "api-open-off-loopback", "API open to anyone",
                    "This request reached " + servlet.getLocalAddr() + ", which is not loopback, and the API is open to"
                    + " anyone (" + ApiAccess.ACCESS_KEY + "=open), so it serves loopback only. Set "
                    + ApiAccess.ACCESS_KEY + "=login (API_ACCESS=login) with mp.jwt.verify.issuer and"
                    + " mp.jwt.verify.publickey.location, or Basic users in the registry (docs/security.md)");
        }
        if (!access.get().open() && request.getSecurityContext().getUserPrincipal() == null) {
            // web.xml asks every call for a login, so only bindings of another api.access let one through.
            throw new ApiProblem(Response.Status.SERVICE_UNAVAILABLE, "api-access-stale", "API bindings stale",
                    ApiAccess.ACCESS_KEY + "=login, but the role bindings in force let a request without a login"
                    + " through: Liberty keeps an application's role bindings from its previous start. Start the"
                    + " server once with --clean (server start <name> --clean) after changing " + ApiAccess.ACCESS_KEY);
        }
        if (loopback && !access.get().hostAllowed(host)) {
            throw new ApiProblem(Response.Status.FORBIDDEN, "foreign-host", "Foreign Host",
                    "The Host header does not name this server (localhost or a loopback address); add the name to "
                    + ApiAccess.ALLOWED_HOSTS_KEY + " if a proxy of yours sends it");
        }
        if (SAFE_METHODS.contains(request.getMethod())) {
            return;
        }
        if (ApiAccess.crossSite(host, request.getHeaderString("Origin"), request.getHeaderString("Sec-Fetch-Site"))) {
            throw new ApiProblem(Response.Status.FORBIDDEN, "cross-site-request", "Cross-site request",
                    "A change sent from another site's page (Origin or Sec-Fetch-Site) is refused");
        }
        if (AdminAudit.isAdministrative(request.getUriInfo().getPath())
                && ApiAccess.formType(request.getHeaderString("Content-Type"))) {
            throw new ApiProblem(Response.Status.UNSUPPORTED_MEDIA_TYPE, "form-refused", "Form post refused",
                    "The administrative calls take no form posts (a page of another site can send one); send no body,"
                    + " or application/octet-stream for an RDB upload");
        }
    }
}
