package io.compozy.cache.web.rest;

import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.StoreExecutors;
import io.compozy.cache.web.store.Subscription;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.workflow.ExecutionStore;
import io.compozy.cache.web.workflow.WorkflowRunner;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;

/** {@code /api/executions/{execId}}: an execution's state, and its events as Server-Sent Events. */
@Path("executions/{execId}")
@ApplicationScoped
public class ExecutionResource {

    private static final Set<String> LAST_EVENTS = Set.of(WorkflowRunner.WORKFLOW_SUCCEEDED, WorkflowRunner.WORKFLOW_FAILED);

    private final ExecutionStore executions;
    private final ExecutionEventStream events;
    private final ScheduledExecutorService scheduler;

    /** For CDI's proxy only. */
    protected ExecutionResource() {
        this.executions = null;
        this.events = null;
        this.scheduler = null;
    }

    @Inject
    public ExecutionResource(final ExecutionStore executions, final ExecutionEventStream events,
            final StoreExecutors executors) {
        this(executions, events, executors.scheduler());
    }

    public ExecutionResource(final ExecutionStore executions, final ExecutionEventStream events,
            final ScheduledExecutorService scheduler) {
        this.executions = executions;
        this.events = events;
        this.scheduler = scheduler;
    }

    /** Status, input, output or error, and each task's status, output and timings, as stored. */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response get(@PathParam("execId") final String execId) {
        return Response.ok(state(execId).getBytes(StandardCharsets.UTF_8), MediaType.APPLICATION_JSON_TYPE).build();
    }

    /**
     * Every event of the execution (or those after {@code Last-Event-ID}), then the new ones as they
     * happen; the response ends after {@code workflow.succeeded} or {@code workflow.failed}.
     */
    @GET
    @Path("stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void stream(@PathParam("execId") final String execId,
            @HeaderParam(HttpHeaders.LAST_EVENT_ID_HEADER) final String lastEventId,
            @Context final SseEventSink sink, @Context final Sse sse) {
        long after = EventsResource.parseLastEventId(lastEventId);
        state(execId); // 404 before the stream opens
        SseChannel channel = new SseChannel(sink, sse);
        OrderedEventStream stream = new OrderedEventStream(channel, after, LAST_EVENTS);
        // Subscribe, then replay while holding the stream's lock: live events wait, none is lost or repeated.
        synchronized (stream) {
            Subscription live = events.subscribe(execId, stream::sendIfNew);
            channel.attach(live, scheduler);
            events.replayAfter(execId, after).forEach(stream::sendIfNew);
            if (!stream.ended() && after > 0
                    && events.replayAfter(execId, 0).stream().anyMatch(e -> LAST_EVENTS.contains(e.type()))) {
                channel.close(); // the client saw the last event already: nothing more will come
            }
        }
    }

    private String state(final String execId) {
        return executions.find(execId).orElseThrow(() -> StoreException.notFound("execution '" + execId
                + "' does not exist (or it finished more than " + executions.ttl() + " ago)"));
    }
}
