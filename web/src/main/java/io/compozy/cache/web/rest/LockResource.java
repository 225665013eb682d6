package io.compozy.cache.web.rest;

import io.compozy.cache.web.store.lock.LockManager;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.InputStream;
import java.time.Duration;

/**
 * {@code /api/locks/{resource}}: leases for clients outside this JVM. A lease is not renewed: it ends at
 * its TTL unless released first, so a crashed client never holds a lock for ever.
 */
@Path("locks/{resource}")
@ApplicationScoped
@Produces(MediaType.APPLICATION_JSON)
public class LockResource {

    static final long MAX_TTL_MS = Duration.ofDays(1).toMillis();

    private final LockManager locks;

    /** For CDI's proxy only. */
    protected LockResource() {
        this.locks = null;
    }

    @Inject
    public LockResource(final LockManager locks) {
        this.locks = locks;
    }

    /** {@code {"ttlMs":n}} gives 201 {@code {"resource","token","ttlMs"}}, or 409 when held. */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response acquire(@PathParam("resource") final String resource, final InputStream body) {
        JsonObject request = JsonBody.object(body);
        long ttlMs = JsonBody.requiredInteger(request, "ttlMs");
        if (ttlMs < 1 || ttlMs > MAX_TTL_MS) {
            throw ApiProblem.badRequest("Field 'ttlMs' must be between 1 and " + MAX_TTL_MS + " (one day), got " + ttlMs);
        }
        String token = locks.tryLease(resource, Duration.ofMillis(ttlMs)).orElseThrow(() -> new ApiProblem(
                Response.Status.CONFLICT, "lock-held", "Lock held",
                "The lock '" + resource + "' is held; retry after its holder releases it or its TTL runs out"));
        return Responses.json(Response.Status.CREATED, Json.createObjectBuilder()
                .add("resource", resource).add("token", token).add("ttlMs", ttlMs).build());
    }

    /** 204 when released; 409 when the token does not own the lock (or nobody holds it). */
    @DELETE
    public Response release(@PathParam("resource") final String resource, @QueryParam("token") final String token) {
        if (token == null || token.isBlank()) {
            throw ApiProblem.badRequest("Query parameter 'token' is required: the token the POST returned");
        }
        locks.release(resource, token);
        return Response.noContent().build();
    }
}
