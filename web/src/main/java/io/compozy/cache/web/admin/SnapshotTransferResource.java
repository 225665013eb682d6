package io.compozy.cache.web.admin;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.Persistence;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.web.client.CacheConnections;
import io.compozy.cache.web.rest.ApiProblem;
import io.compozy.cache.web.store.KeyLayoutMigration;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * A stored generation out as a standard RDB file, and back into the live data:
 * {@code GET /api/admin/snapshots/{generation}/rdb} streams it (decrypted, checked against its SHA-256 as it
 * goes; a check that fails part-way breaks the transfer off short of its Content-Length), and
 * {@code POST /api/admin/snapshots/{generation}/restore} restarts the embedded server on it. Uploading an RDB
 * file is {@code POST /api/admin/snapshots} with an octet-stream body ({@link SnapshotResource#post}).
 * Errors are problem+json; the administrator's login is needed ({@link Administration}).
 */
@Path("admin/snapshots/{generation}")
@RequestScoped
@RolesAllowed(Administration.ROLE)
public class SnapshotTransferResource {


    @Inject
    CacheConnections cache;

    @Inject
    Administration administration;

    @Inject
    KeyLayoutMigration keyLayout;

    @GET
    @Path("rdb")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public Response download(@PathParam("generation") final long generation) {
        Persistence persistence = persistence(cache, administration);
        SnapshotInfo info = known(() -> persistence.generation(generation));
        StreamingOutput body = out -> persistence.writeRdb(generation, out);
        return Response.ok(body, MediaType.APPLICATION_OCTET_STREAM_TYPE)
                .header("Content-Length", info.bytes())
                .header("Content-Disposition", "attachment; filename=\"compozy-cache-generation-" + generation + ".rdb\"")
                .header("X-Snapshot-SHA256", info.sha256())
                .build();
    }

    @POST
    @Path("restore")
    @Produces(MediaType.APPLICATION_JSON)
    public Response restore(@PathParam("generation") final long generation) {
        Persistence persistence = persistence(cache, administration);
        // A backup from before the hash-tagged key layout is moved to it before any application sees it, as at a
        // start (docs/migration.md); if that fails, the restore fails and the live data stays.
        long[] moved = {0};
        SnapshotInfo snapshot = known(() -> persistence.restore(generation,
                restored -> moved[0] = keyLayout.migrateOnce(restored)));
        awaitClientBack();
        return Response.ok(Json.createObjectBuilder()
                .add("restored", generation)
                .add("snapshot", SnapshotJson.generation(snapshot))
                .add("keysMovedToHashTags", moved[0])
                .build()).build();
    }

    /**
     * The restored server refused the shared client until it was ready, and the client reconnects on its own
     * back-off: answer once it serves again (at most {@link #RECONNECT_WAIT}), so the caller's next call works.
     */
    private void awaitClientBack() {
        long deadline = System.nanoTime() + RECONNECT_WAIT.toNanos();
        while (System.nanoTime() < deadline && !cache.call(CacheConnection::ping)) {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L); // a refused connection fails at once
        }
    }

    private static final java.time.Duration RECONNECT_WAIT = java.time.Duration.ofSeconds(30);

    /** The adapter's persistence, or 409 (problem+json) when it has none. */
    static Persistence persistence(final CacheConnections cache, final Administration administration) {
        administration.requireConfigured();
        Optional<Persistence> persistence = cache.call(CacheConnection::persistence);
        return persistence.orElseThrow(() -> new ApiProblem(Response.Status.CONFLICT, "snapshots-not-enabled",
                "Snapshots are not enabled", "Snapshots need standalone mode with"
                        + " redis.standalone.persistence.enabled=true; an external Redis persists itself."));
    }

    /**
     * Runs the call; an unknown generation is a 404. The adapter's own failures (SnapshotFailedException, which
     * says whether the live data changed) are ProblemMapper's 500 snapshot-failed.
     */
    private static <T> T known(final java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (NoSuchElementException e) {
            throw new ApiProblem(Response.Status.NOT_FOUND, "generation-not-found", "Generation not found",
                    e.getMessage());
        }
    }
}
