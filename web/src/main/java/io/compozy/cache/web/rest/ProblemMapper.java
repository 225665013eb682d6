package io.compozy.cache.web.rest;

import io.compozy.cache.api.SnapshotFailedException;
import io.compozy.cache.web.client.CacheConnections;
import io.compozy.cache.web.client.CacheUnavailableException;
import io.compozy.cache.web.store.StoreException;
import jakarta.enterprise.inject.spi.CDI;
import jakarta.json.Json;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.util.Optional;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.redisson.client.RedisException;
import org.redisson.client.RedisOutOfMemoryException;

/**
 * The one error mapper: every failure becomes {@code application/problem+json}
 * ({@code {"type","title","status","detail"}}). Details come only from messages written for callers
 * (store and API errors); anything unexpected is logged with an incident id and answered without its
 * message, so no connection string or secret can leak.
 */
@Provider
public class ProblemMapper implements ExceptionMapper<Throwable> {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class.getName());

    public static final String PROBLEM_JSON = "application/problem+json";
    static final String TYPE_PREFIX = "urn:compozy:cache:problem:";
    /** A key no store uses, deleted (a no-op) to learn why Redis refused a transaction's writes. */
    static final String DISK_PROBE_KEY = "compozy:cache:disk-probe";
    /** The adapter's key of the embedded server's limit (CacheSettings.MAX_MEMORY), named in the 507. */
    private static final String CACHE_MEMORY_KEY = "redis.standalone.max_memory";

    @Override
    public Response toResponse(final Throwable failure) {
        if (failure instanceof ApiProblem problem) {
            return problem(problem.status(), problem.slug(), problem.title(), problem.getMessage());
        }
        if (failure instanceof SnapshotFailedException snapshot) {
            // The server's persistence, not the request: its message names data_dir and what the live data is now.
            return Response.status(500).type(PROBLEM_JSON).entity(document(500, "snapshot-failed",
                    "Snapshot operation failed", snapshot.getMessage())
                    .add("liveDataChanged", snapshot.liveDataChanged()).build().toString()).build();
        }
        if (failure instanceof StoreException store) {
            return fromStore(store);
        }
        if (failure instanceof WebApplicationException web) {
            return fromJaxRs(web);
        }
        Optional<CacheUnavailableException> unavailable = causeOfType(failure, CacheUnavailableException.class);
        if (unavailable.isPresent()) {
            // The adapter did not start or stopped: its reason names the key or address, never a secret.
            return problem(503, "cache-unavailable", "Cache unavailable", unavailable.get().getMessage());
        }
        Optional<String> cannotPersist = causeOfType(failure, RedisException.class).flatMap(ProblemMapper::cannotPersist);
        if (cannotPersist.isPresent()) {
            // A full or failing disk under Redis's AOF or RDB: Redis refuses writes, serves reads, and takes
            // writes again by itself once it can write to disk.
            LOG.warning("Redis refused a write because it cannot persist: " + cannotPersist.get());
            return problem(503, "backend-cannot-persist", "Cache cannot persist writes", "Redis refuses writes"
                    + " until it can write to its disk again (Redis said: " + cannotPersist.get() + "). Nothing"
                    + " acknowledged was lost and reads keep working; writes resume by themselves once the disk"
                    + " has room. See GET /api/admin/status and docs/reliability.md");
        }
        if (causeOfType(failure, RedisOutOfMemoryException.class).isPresent()) {
            // maxmemory reached under noeviction: Redis refused this write whole and keeps serving reads.
            LOG.warning("Redis refused a write: its maxmemory is reached");
            return problem(507, "cache-full", "Cache full", "Redis refused the write: it holds as much as its"
                    + " maxmemory allows (" + CACHE_MEMORY_KEY + " in standalone mode, the server's own maxmemory"
                    + " otherwise). Nothing acknowledged was lost and reads keep working; delete data, or raise the"
                    + " limit and restart (docs/configuration.md)");
        }
        // Also wrapped (a store adds context; a failover surfaces as timeouts, CLUSTERDOWN, READONLY...).
        if (causeOfType(failure, RedisException.class).isPresent()) {
            LOG.log(Level.WARNING, "the cache backend failed a request", failure);
            return problem(503, "backend-unavailable", "Cache backend unavailable",
                    "Redis did not answer; check GET /api/admin/status and retry");
        }
        String incident = UUID.randomUUID().toString();
        LOG.log(Level.SEVERE, "unexpected failure, incident " + incident, failure);
        return problem(500, "internal-error", "Internal error",
                "An unexpected error occurred; the server log has the details under incident " + incident);
    }

    /**
     * Why Redis refused a write when it cannot persist it: its MISCONF reply (a command, or a script's
     * error); a MULTI/EXEC answers only EXECABORT, so Redis is then asked again with a harmless write.
     */
    private static Optional<String> cannotPersist(final RedisException e) {
        Optional<String> misconf = misconf(e);
        if (misconf.isPresent() || !String.valueOf(e.getMessage()).startsWith("EXECABORT")) {
            return misconf;
        }
        // Ask Redis again with a write that changes nothing (DEL of a key nobody uses): refused, it says why.
        try {
            CDI.current().select(CacheConnections.class).get()
                    .call(connection -> connection.getBucket(DISK_PROBE_KEY).delete());
            return Optional.empty();
        } catch (RedisException probe) {
            return misconf(probe);
        } catch (RuntimeException noContainer) {
            return Optional.empty(); // no container (a unit test) or no answer: the plain backend problem
        }
    }

    /**
     * Redis's MISCONF reply in its own words, without what Redisson appends (the channel and the command
     * with its arguments, which may be a caller's data) or a script's location.
     */
    static Optional<String> misconf(final RedisException e) {
        String message = String.valueOf(e.getMessage());
        int start = message.indexOf("MISCONF ");
        if (start < 0) {
            return Optional.empty();
        }
        String words = message.substring(start + "MISCONF ".length());
        for (String context : new String[] {". channel: ", " script: ", " channel: "}) {
            int at = words.indexOf(context);
            if (at >= 0) {
                words = words.substring(0, at);
            }
        }
        return Optional.of(words);
    }

    /** CDI wraps a producer's failure; look through the causes for one written for callers. */
    private static <T extends Throwable> Optional<T> causeOfType(final Throwable failure, final Class<T> type) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (type.isInstance(cause)) {
                return Optional.of(type.cast(cause));
            }
        }
        return Optional.empty();
    }

    private static Response fromStore(final StoreException e) {
        return switch (e.reason()) {
            case NOT_FOUND -> problem(404, "not-found", "Not found", e.getMessage());
            case ALREADY_EXISTS -> problem(412, "already-exists", "Precondition failed: already exists", e.getMessage());
            case ETAG_MISMATCH -> problem(412, "etag-mismatch", "Precondition failed: ETag mismatch", e.getMessage());
            case CONFLICT -> problem(409, "conflict", "Conflict", e.getMessage());
            case NOT_HELD -> problem(409, "lock-not-held", "Lock not held", e.getMessage());
            case NOT_OWNER -> problem(409, "lock-not-owner", "Lock owned by another token", e.getMessage());
            case INVALID_ARGUMENT -> problem(400, "invalid-request", "Invalid request", e.getMessage());
            case LIMIT_REACHED -> problem(413, "limit-reached", "Limit reached", e.getMessage());
            case CORRUPT_DATA -> problem(500, "corrupt-data", "Stored data is unreadable", e.getMessage());
        };
    }

    private static Response fromJaxRs(final WebApplicationException e) {
        Response original = e.getResponse();
        int status = original.getStatus();
        Response.StatusType type = original.getStatusInfo();
        String detail = switch (status) {
            case 404 -> "There is no endpoint at this path; see docs/api.md for the API";
            case 405 -> "This endpoint does not accept that HTTP method; see docs/api.md";
            case 406 -> "This endpoint cannot produce the media type in Accept";
            case 415 -> "Send the body as Content-Type: application/json";
            default -> type.getReasonPhrase();
        };
        return problem(status, slug(type.getReasonPhrase()), type.getReasonPhrase(), detail);
    }

    static Response problem(final int status, final String slug, final String title, final String detail) {
        return Response.status(status).type(PROBLEM_JSON).entity(body(status, slug, title, detail)).build();
    }

    /** The problem document itself, for answers written outside JAX-RS (the container's error pages). */
    static String body(final int status, final String slug, final String title, final String detail) {
        return document(status, slug, title, detail).build().toString();
    }

    /** The four members of every problem; a problem of its own kind adds its members to it. */
    private static JsonObjectBuilder document(final int status, final String slug, final String title,
                                              final String detail) {
        return Json.createObjectBuilder()
                .add("type", TYPE_PREFIX + slug)
                .add("title", title)
                .add("status", status)
                .add("detail", detail == null ? title : detail);
    }

    static String slug(final String phrase) {
        return phrase == null ? "error" : phrase.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    }
}
