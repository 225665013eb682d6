package io.compozy.cache.web.rest;

import io.compozy.cache.web.admin.SnapshotResource;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Refuses request bodies above {@value #MAX_BODY_KEY} bytes (default 1 MiB) with 413: at once when
 * Content-Length says so, and while reading when a chunked body grows past the limit.
 */
@Provider
public class BodySizeLimit implements ContainerRequestFilter {

    /** Config key of the largest accepted request body, in bytes. */
    public static final String MAX_BODY_KEY = "api.max_body_bytes";
    public static final long DEFAULT_MAX_BODY = 1024 * 1024;

    private final long maxBytes;

    /** The server's instance: the limit comes from MicroProfile Config. */
    public BodySizeLimit() {
        this(ConfigProvider.getConfig().getOptionalValue(MAX_BODY_KEY, Long.class).orElse(DEFAULT_MAX_BODY));
    }

    /** Package-private so that JAX-RS, choosing among public constructors, always takes the one above. */
    BodySizeLimit(final long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException(MAX_BODY_KEY + " must be at least 1, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    @Override
    public void filter(final ContainerRequestContext request) {
        if (isRdbUpload(request)) {
            return; // an RDB file, as big as the data: streamed to disk by the endpoint, never buffered
        }
        if (request.getLength() > maxBytes) {
            throw tooLarge();
        }
        if (request.hasEntity()) {
            request.setEntityStream(new LimitedStream(request.getEntityStream()));
        }
    }

    /** {@code POST /api/admin/snapshots} with an octet-stream body (docs/api.md). */
    static boolean isRdbUpload(final ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        return "POST".equals(request.getMethod()) && "admin/snapshots".equals(path.replaceAll("^/+|/+$", ""))
                && SnapshotResource.carriesRdb(request.getMediaType());
    }

    private ApiProblem tooLarge() {
        return new ApiProblem(Response.Status.REQUEST_ENTITY_TOO_LARGE, "body-too-large", "Request body too large",
                "The request body is larger than " + maxBytes + " bytes; send less (the limit is " + MAX_BODY_KEY + ")");
    }

    /** Counts bytes as they are read and fails once the limit is passed. */
    private final class LimitedStream extends FilterInputStream {

        private long count;

        LimitedStream(final InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                counted(1);
            }
            return b;
        }

        @Override
        public int read(final byte[] buffer, final int offset, final int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                counted(n);
            }
            return n;
        }

        private void counted(final int n) {
            count += n;
            if (count > maxBytes) {
                throw tooLarge();
            }
        }
    }
}
