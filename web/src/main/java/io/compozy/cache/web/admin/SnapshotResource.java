package io.compozy.cache.web.admin;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.Persistence;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.web.client.CacheConnections;
import io.compozy.cache.web.rest.ApiProblem;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import io.compozy.cache.web.rest.ApiProblem;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Optional;

/**
 * {@code POST /api/admin/snapshots} takes a snapshot now and returns its metadata;
 * {@code GET /api/admin/snapshots} lists the stored generations, newest first. Both answer 409 when
 * the adapter has no persistence (distributed mode, or standalone with persistence off).
 *
 * <p>Both need the administrator's login ({@link Administration}).
 */
@Path("admin/snapshots")
@RequestScoped
@RolesAllowed(Administration.ROLE)
public class SnapshotResource {

    @Inject
    CacheConnections cache;

    @Inject
    Administration administration;

    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public Response take() {
        Persistence persistence = persistence();
        Optional<SnapshotInfo> taken;
        try {
            taken = persistence.snapshot();
        } catch (IllegalStateException e) {
            throw new ApiProblem(Response.Status.INTERNAL_SERVER_ERROR, "snapshot-failed", "Snapshot failed",
                    e.getMessage());
        }
        SnapshotInfo info = taken.orElseThrow(() -> new ApiProblem(Response.Status.CONFLICT, "snapshot-running",
                "A snapshot is already running",
                "A snapshot is already running; this request was skipped. Try again when it has finished."));
        return Response.status(Response.Status.CREATED).entity(SnapshotJson.generation(info)).build();
    }

    /**
     * Stores an RDB file sent as the body (streamed to disk, never held in memory) as a new generation, once
     * all of it has been read and checked; 400 (problem+json) naming what is wrong, and nothing stored,
     * otherwise. The live data changes only with {@code POST /api/admin/snapshots/{generation}/restore}.
     */
    @POST
    @Consumes(MediaType.APPLICATION_OCTET_STREAM)
    @Produces(MediaType.APPLICATION_JSON)
    public Response upload(final InputStream rdb) {
        Persistence persistence = SnapshotTransferResource.persistence(cache, administration);
        SnapshotInfo stored;
        try {
            stored = persistence.storeRdb(rdb);
        } catch (IllegalArgumentException e) {
            throw new ApiProblem(Response.Status.BAD_REQUEST, "invalid-rdb", "Invalid RDB file",
                    "The uploaded file was not stored: " + e.getMessage());
        } catch (IOException e) {
            throw new ApiProblem(Response.Status.BAD_REQUEST, "upload-incomplete", "Upload incomplete",
                    "The upload broke off before its end (" + e.getMessage() + "); nothing was stored");
        } catch (IllegalStateException e) {
            throw new ApiProblem(Response.Status.INTERNAL_SERVER_ERROR, "snapshot-failed", "Snapshot operation failed",
                    e.getMessage());
        }
        return Response.status(Response.Status.CREATED)
                .location(URI.create("admin/snapshots/" + stored.generation() + "/rdb"))
                .entity(SnapshotJson.generation(stored)).build();
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response list() {
        JsonArrayBuilder generations = Json.createArrayBuilder();
        persistence().generations().forEach(info -> generations.add(SnapshotJson.generation(info)));
        return Response.ok(Json.createObjectBuilder().add("generations", generations).build()).build();
    }

    /** Errors are problem+json like the rest of the API (ProblemMapper writes them). */
    private Persistence persistence() {
        administration.requireConfigured();
        return cache.call(CacheConnection::persistence).orElseThrow(() -> new ApiProblem(Response.Status.CONFLICT,
                "snapshots-not-enabled", "Snapshots are not enabled", "Snapshots need standalone mode with"
                + " redis.standalone.persistence.enabled=true; an external Redis persists itself."));
    }
}
