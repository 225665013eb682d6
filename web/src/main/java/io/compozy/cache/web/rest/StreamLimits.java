package io.compozy.cache.web.rest;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.ext.Provider;
import java.security.Principal;
import java.util.Collection;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * How many Server-Sent Events streams may be open: {@value #MAX_STREAMS_KEY} in all, and
 * {@value #MAX_PER_CLIENT_KEY} per client (the logged-in user, else the remote address). Every stream
 * holds a subscription on the shared client's pub/sub connections, which every application on the server
 * shares, so one client must not be able to take them all. This filter tells the request's {@link SseChannel}
 * (made on the same thread by the resource) who asks and the limits; the channel counts when it opens.
 */
@Provider
public class StreamLimits implements ContainerRequestFilter {

    public static final String MAX_STREAMS_KEY = "api.sse.max_streams";
    public static final int DEFAULT_MAX_STREAMS = 256;
    public static final String MAX_PER_CLIENT_KEY = "api.sse.max_streams_per_client";
    public static final int DEFAULT_MAX_PER_CLIENT = 16;

    /** The admission of the request this thread serves; read (and cleared) by the SseChannel it makes. */
    private static final ThreadLocal<Admission> CURRENT = new ThreadLocal<>();

    private final int maxStreams;
    private final int maxPerClient;

    @Context
    private HttpServletRequest servlet;

    /** The server's instance: the limits come from MicroProfile Config. */
    public StreamLimits() {
        this(ConfigProvider.getConfig().getOptionalValue(MAX_STREAMS_KEY, Integer.class).orElse(DEFAULT_MAX_STREAMS),
                ConfigProvider.getConfig().getOptionalValue(MAX_PER_CLIENT_KEY, Integer.class)
                        .orElse(DEFAULT_MAX_PER_CLIENT));
    }

    /** Package-private so that JAX-RS, choosing among public constructors, always takes the one above. */
    StreamLimits(final int maxStreams, final int maxPerClient) {
        if (maxStreams < 1) {
            throw new IllegalArgumentException(MAX_STREAMS_KEY + " must be at least 1, got " + maxStreams);
        }
        if (maxPerClient < 1) {
            throw new IllegalArgumentException(MAX_PER_CLIENT_KEY + " must be at least 1, got " + maxPerClient);
        }
        this.maxStreams = maxStreams;
        this.maxPerClient = maxPerClient;
    }

    @Context
    private ResourceInfo resource;

    @Override
    public void filter(final ContainerRequestContext request) {
        if (!opensStream(resource.getResourceMethod())) {
            return; // only the stream endpoints make a channel; the other calls pay nothing here
        }
        Principal user = request.getSecurityContext().getUserPrincipal();
        String client = user != null ? "user " + user.getName()
                : "address " + (servlet == null ? "local" : servlet.getRemoteAddr());
        CURRENT.set(new Admission(client, maxStreams, maxPerClient));
    }

    private static boolean opensStream(final java.lang.reflect.Method method) {
        Produces produces = method == null ? null : method.getAnnotation(Produces.class);
        return produces != null && java.util.Arrays.asList(produces.value()).contains(MediaType.SERVER_SENT_EVENTS);
    }

    /** How many event streams are open now (the {@code compozy_api_event_streams} gauge). */
    public static int openStreams() {
        return SseChannel.openCount();
    }

    /** The current request's admission, cleared; without this filter (a unit test), no limits. */
    static Admission take() {
        Admission admission = CURRENT.get();
        CURRENT.remove();
        return admission != null ? admission : new Admission("local", Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    /** Who opens a stream, and the limits it opens under. */
    record Admission(String client, int maxStreams, int maxPerClient) {

        /** Throws a 429 problem naming the limit when {@code open} (the streams now open) has no room. */
        void admit(final Collection<SseChannel> open) {
            if (open.size() >= maxStreams) {
                throw new ApiProblem(jakarta.ws.rs.core.Response.Status.TOO_MANY_REQUESTS, "too-many-streams",
                        "Too many event streams", open.size() + " event streams are open, the most this server"
                        + " serves (" + MAX_STREAMS_KEY + "); close one, or retry later");
            }
            long mine = open.stream().filter(channel -> channel.client().equals(client)).count();
            if (mine >= maxPerClient) {
                throw new ApiProblem(jakarta.ws.rs.core.Response.Status.TOO_MANY_REQUESTS, "too-many-streams",
                        "Too many event streams", "This client has " + mine + " event streams open, the most one"
                        + " client may (" + MAX_PER_CLIENT_KEY + "); close one first");
            }
        }
    }
}
