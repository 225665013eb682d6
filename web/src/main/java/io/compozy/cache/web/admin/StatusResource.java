package io.compozy.cache.web.admin;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.BackendInfo;
import io.compozy.cache.api.TopologyInfo;
import io.compozy.cache.api.Persistence;
import io.compozy.cache.web.client.CacheConnections;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /api/admin/status}: the effective mode, the backend (no secret), whether PING answers and
 * the persistence state (last snapshot's time, duration and size; counters).
 */
@Path("admin/status")
@RequestScoped
public class StatusResource {

    @Inject
    CacheConnections cache;

    @Inject
    javax.cache.CacheManager jcache;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public JsonObject status() {
        JsonObject status = cache.call(StatusResource::describe);
        // The JCache caches of this application's manager (the declared ones from the start): docs/jcache.md.
        var names = Json.createArrayBuilder();
        jcache.getCacheNames().forEach(names::add);
        return Json.createObjectBuilder(status).add("jcache", Json.createObjectBuilder().add("caches", names)).build();
    }

    /** The deployment's kind, failovers since start and every node: address, role, reachable (no secret). */
    static JsonObjectBuilder topology(final TopologyInfo topology) {
        var nodes = Json.createArrayBuilder();
        topology.nodes().forEach(node -> nodes.add(Json.createObjectBuilder().add("address", node.address())
                .add("role", node.role()).add("reachable", node.reachable())));
        return Json.createObjectBuilder().add("kind", topology.kind()).add("failovers", topology.failovers())
                .add("nodes", nodes);
    }

    private static JsonObject describe(final CacheConnection connection) {
        BackendInfo info = connection.backend();
        JsonObjectBuilder backend = Json.createObjectBuilder()
                .add("kind", info.kind())
                .add("host", info.host())
                .add("port", info.port())
                .add("database", info.database())
                .add("tls", info.tls())
                .add("version", info.redisVersion());
        if (info.embedded()) {
            backend.add("binary", info.redisBinary());
            backend.add("pid", info.processId());
            // Times the adapter started the embedded server again after it died (same address, newest snapshot).
            backend.add("restarts", info.embeddedRestarts());
        }
        return Json.createObjectBuilder()
                .add("mode", info.mode())
                .add("backend", backend)
                .add("topology", topology(connection.topology()))
                .add("ping", connection.ping() ? "ok" : "failed")
                .add("persistence", persistence(connection))
                .build();
    }

    /**
     * The snapshots' state, with the append-only file's: its numbers when the embedded server keeps one,
     * {@code {"enabled":false,"fsync":"off"}} when persistence is on without it (an operator sees "off", not
     * a missing field).
     */
    private static JsonObject persistence(final CacheConnection connection) {
        JsonObject snapshots = SnapshotJson.status(connection.persistence().map(Persistence::status));
        if (connection.persistence().isEmpty()) {
            return snapshots;
        }
        JsonObject aof = connection.persistence().flatMap(Persistence::appendOnly).map(SnapshotJson::appendOnly)
                .orElseGet(() -> Json.createObjectBuilder().add("enabled", false).add("fsync", "off").build());
        return Json.createObjectBuilder(snapshots).add("appendOnly", aof).build();
    }
}
