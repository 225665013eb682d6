package io.compozy.cache.web.admin;

import io.compozy.cache.api.Persistence;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.web.client.CacheConnections;
import io.compozy.cache.web.rest.ApiProblem;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Optional;

/**
 * {@code POST /api/admin/snapshots} takes a snapshot now and returns its metadata, or stores an RDB file sent
 * with {@code Content-Type: application/octet-stream}; {@code GET /api/admin/snapshots} lists the stored
 * generations, newest first. All answer 409 when the adapter has no persistence (distributed mode, or
 * standalone with persistence off).
 *
 * <p>All need the administrator's login ({@link Administration}).
 */
@Path("admin/snapshots")
@RequestScoped
@RolesAllowed(Administration.ROLE)
public class SnapshotResource {

    @Inject
    CacheConnections cache;

    @Inject
    Administration administration;

    /**
     * One method for both POSTs, deciding on the Content-Type itself: JAX-RS takes a request without one for
     * {@code application/octet-stream}, so the documented {@code curl -X POST} (no Content-Type, no body) went
     * to an {@code @Consumes(octet-stream)} upload and was refused as an empty RDB file. No Content-Type or
     * JSON takes a snapshot (the body is not read); only an explicit octet-stream is an upload.
     */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public Response post(@HeaderParam(HttpHeaders.CONTENT_TYPE) final MediaType type, final InputStream body)
            throws IOException {
        if (carriesRdb(type)) {
            return upload(body);
        }
        if (type == null || MediaType.APPLICATION_JSON_TYPE.isCompatible(type)) {
            return take();
        }
        throw new ApiProblem(Response.Status.UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                "Unsupported Media Type", "POST /api/admin/snapshots takes a snapshot when sent without a body (or"
                + " as application/json), and stores an RDB file sent as Content-Type: application/octet-stream;"
                + " not " + type);
    }

    /** Whether a request of this Content-Type is an RDB upload: only an explicit application/octet-stream. */
    public static boolean carriesRdb(final MediaType type) {
        return type != null && !type.isWildcardType() && !type.isWildcardSubtype()
                && MediaType.APPLICATION_OCTET_STREAM_TYPE.isCompatible(type);
    }

    private Response take() {
        Optional<SnapshotInfo> taken = SnapshotTransferResource.persistence(cache, administration).snapshot();
        SnapshotInfo info = taken.orElseThrow(() -> new ApiProblem(Response.Status.CONFLICT, "snapshot-running",
                "A snapshot is already running",
                "A snapshot is already running; this request was skipped. Try again when it has finished."));
        return Response.status(Response.Status.CREATED).entity(SnapshotJson.generation(info)).build();
    }

    /**
     * Stores an RDB file sent as the body (streamed to disk, never held in memory) as a new generation, once
     * all of it has been read and checked; 400 (problem+json) naming what is wrong, and nothing stored,
     * otherwise. The live data changes only with {@code POST /api/admin/snapshots/{generation}/restore}.
     * This server's failures (its data_dir disk) are the adapter's SnapshotFailedException, answered 500 by
     * ProblemMapper.
     */
    private Response upload(final InputStream rdb) {
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
        }
        return Response.status(Response.Status.CREATED)
                .location(URI.create("admin/snapshots/" + stored.generation() + "/rdb"))
                .entity(SnapshotJson.generation(stored)).build();
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response list() {
        JsonArrayBuilder generations = Json.createArrayBuilder();
        SnapshotTransferResource.persistence(cache, administration).generations()
                .forEach(info -> generations.add(SnapshotJson.generation(info)));
        return Response.ok(Json.createObjectBuilder().add("generations", generations).build()).build();
    }
}
