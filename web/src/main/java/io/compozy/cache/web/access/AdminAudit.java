package io.compozy.cache.web.access;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.ext.Provider;
import java.security.Principal;
import java.util.logging.Logger;

/**
 * One line in messages.log for every administrative call (take, list, download, upload or restore
 * snapshots; every workflow's events): who, from where, what and its status. Never a credential: the path
 * and the user name only.
 */
@Provider
public class AdminAudit implements ContainerResponseFilter {

    private static final Logger LOG = Logger.getLogger(AdminAudit.class.getName());
    /** Compiled once: every API answer passes through this filter. */
    private static final java.util.regex.Pattern ADMINISTRATIVE = java.util.regex.Pattern.compile(
            "/*(admin/snapshots(/.*)?|events/workflows)/*");

    @Context
    private HttpServletRequest servlet;

    /** The API paths (under /api) web.xml keeps for the admin role. */
    static boolean isAdministrative(final String path) {
        return ADMINISTRATIVE.matcher(path).matches();
    }

    @Override
    public void filter(final ContainerRequestContext request, final ContainerResponseContext response) {
        if (!isAdministrative(request.getUriInfo().getPath())) {
            return;
        }
        Principal user = request.getSecurityContext().getUserPrincipal();
        LOG.info("Compozy cache admin call: " + request.getMethod() + " /api/"
                + request.getUriInfo().getPath().replaceAll("^/+", "") + " by "
                + (user == null ? "(no login)" : user.getName()) + " from " + servlet.getRemoteAddr()
                + ": " + response.getStatus());
    }
}
