package io.compozy.cache.web.access;

import io.compozy.cache.web.rest.ApiProblem;
import io.compozy.cache.web.workflow.ExecutionStore;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.spi.CDI;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;
import java.io.StringReader;
import java.security.Principal;
import java.util.Collection;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * A bearer token whose {@value #CLAIM} claim names projects reaches only those projects: the resources and
 * workflows under {@code /{project}/}, and the executions (their state and event stream) of those
 * projects' workflows. Every other endpoint keeps no project (memory, MCP definitions, locks, task
 * configs, raw event channels, webhooks by namespace, administration), so such a token is refused there.
 * A token without the claim, and a Basic login, reach every project their roles allow.
 */
@Provider
@Priority(Priorities.AUTHORIZATION)
public class ProjectScope implements ContainerRequestFilter {

    /** The JWT claim: an array of project names. */
    public static final String CLAIM = "projects";

    @Override
    public void filter(final ContainerRequestContext request) {
        Principal user = request.getSecurityContext().getUserPrincipal();
        if (!(user instanceof JsonWebToken token) || !token.containsClaim(CLAIM)) {
            return;
        }
        Set<String> projects = names(token.getClaim(CLAIM));
        String path = request.getUriInfo().getPath().replaceAll("^/+", "");
        String project = request.getUriInfo().getPathParameters().getFirst("project");
        if (project == null && path.startsWith("executions/")) {
            project = executionProject(request.getUriInfo().getPathParameters().getFirst("execId")).orElse(null);
            if (project == null) {
                return; // no such execution: its resource answers 404
            }
        }
        if (project == null) {
            throw new ApiProblem(Response.Status.FORBIDDEN, "not-project-scoped", "Not kept by project",
                    "This token names its projects (claim '" + CLAIM + "'), and /api/" + path + " is not kept by"
                    + " project; it needs a token without that claim (docs/security.md)");
        }
        if (!projects.contains(project)) {
            throw new ApiProblem(Response.Status.FORBIDDEN, "project-forbidden", "Project not allowed",
                    "This token's claim '" + CLAIM + "' does not name project '" + project + "'");
        }
    }

    private static Set<String> names(final Object claim) {
        Set<String> names = new HashSet<>();
        if (claim instanceof Collection<?> values) {
            values.forEach(v -> names.add(v instanceof JsonString s ? s.getString() : String.valueOf(v)));
        } else if (claim instanceof JsonString single) {
            names.add(single.getString());
        } else if (claim instanceof String single) {
            names.add(single);
        }
        return names;
    }

    private static Optional<String> executionProject(final String execId) {
        if (execId == null) {
            return Optional.empty();
        }
        return CDI.current().select(ExecutionStore.class).get().find(execId).map(state -> {
            JsonObject json = Json.createReader(new StringReader(state)).readObject();
            JsonValue project = json.get("project");
            return project instanceof JsonString s ? s.getString() : null;
        });
    }
}
