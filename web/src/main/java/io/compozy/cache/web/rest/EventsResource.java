package io.compozy.cache.web.rest;

import io.compozy.cache.web.admin.Administration;
import io.compozy.cache.web.store.StoreExecutors;
import io.compozy.cache.web.store.Subscription;
import io.compozy.cache.web.store.eventstream.ExecutionEvent;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.notification.NotificationSystem;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.InputStream;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;

/**
 * {@code /api/events}: workflow and task events.
 *
 * <p>A workflow event is appended to the workflow's execution stream (so it gets an id and can be
 * replayed) and published to {@code workflow:{id}}; a task event goes to {@code task:{id}} and, when it
 * names a {@code workflowId}, to that workflow too. {@code GET /api/events/workflows/{id}} follows one
 * workflow's execution stream and replays what came after {@code Last-Event-ID}; the other streams are
 * live only.
 */
@Path("events")
@ApplicationScoped
public class EventsResource {

    private final ExecutionEventStream executions;
    private final NotificationSystem notifications;
    private final ScheduledExecutorService scheduler;
    private final Administration administration;

    /** For CDI's proxy only. */
    protected EventsResource() {
        this.executions = null;
        this.notifications = null;
        this.scheduler = null;
        this.administration = null;
    }

    @Inject
    public EventsResource(final ExecutionEventStream executions, final NotificationSystem notifications,
            final StoreExecutors executors, final Administration administration) {
        this(executions, notifications, executors.scheduler(), administration);
    }

    public EventsResource(final ExecutionEventStream executions, final NotificationSystem notifications,
            final ScheduledExecutorService scheduler, final Administration administration) {
        this.executions = executions;
        this.notifications = notifications;
        this.scheduler = scheduler;
        this.administration = administration;
    }

    /** Ends the open event streams (of every resource) before the application stops: see {@link SseChannel}. */
    static void closeOpenStreams(@Observes @BeforeDestroyed(ApplicationScoped.class) final Object stopping) {
        SseChannel.closeAll();
    }

    /** {@code {"type":"...","data":...}} gives 202 {@code {"id":n}}, the event's id in the workflow's stream. */
    @POST
    @Path("workflows/{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response publishWorkflow(@PathParam("id") final String workflowId, final InputStream body) {
        JsonObject request = JsonBody.object(body);
        String type = requiredType(request);
        JsonValue data = request.getOrDefault("data", JsonValue.NULL);
        ExecutionEvent event = executions.append(workflowId, type, data);
        notifications.publishWorkflow(workflowId, type, data);
        return Responses.json(Response.Status.ACCEPTED, Json.createObjectBuilder().add("id", event.id()).build());
    }

    /** {@code {"type":"...","data":...,"workflowId":"..."?}} gives 202. */
    @POST
    @Path("tasks/{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response publishTask(@PathParam("id") final String taskId, final InputStream body) {
        JsonObject request = JsonBody.object(body);
        String type = requiredType(request);
        JsonValue data = request.getOrDefault("data", JsonValue.NULL);
        String workflowId = JsonBody.text(request, "workflowId").filter(w -> !w.isBlank()).orElse(null);
        var accepted = Json.createObjectBuilder().add("taskId", taskId);
        if (workflowId != null) {
            JsonValue withTask = Json.createObjectBuilder().add("taskId", taskId).add("data", data).build();
            accepted.add("id", executions.append(workflowId, type, withTask).id());
        }
        notifications.publishTask(taskId, workflowId, type, data);
        return Responses.json(Response.Status.ACCEPTED, accepted.build());
    }

    /** One workflow's events as SSE (id = event id); replays after {@code Last-Event-ID}, then follows. */
    @GET
    @Path("workflows/{id}")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void followWorkflow(@PathParam("id") final String workflowId,
            @HeaderParam(HttpHeaders.LAST_EVENT_ID_HEADER) final String lastEventId,
            @Context final SseEventSink sink, @Context final Sse sse) {
        long after = parseLastEventId(lastEventId);
        SseChannel channel = new SseChannel(sink, sse);
        OrderedEventStream stream = new OrderedEventStream(channel, after, Set.of());
        // Subscribe first and replay while holding the stream's lock: live events wait, none is lost or reordered.
        synchronized (stream) {
            Subscription live = executions.subscribe(workflowId, stream::sendIfNew);
            channel.attach(live, scheduler);
            if (lastEventId != null) {
                executions.replayAfter(workflowId, after).forEach(stream::sendIfNew);
            }
        }
    }

    /**
     * Every workflow's events as SSE ({@code workflow:*}), live. It reads all data, so web.xml asks for the
     * administrator's login here.
     */
    @GET
    @Path("workflows")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RolesAllowed(Administration.ROLE)
    public void followAllWorkflows(@Context final SseEventSink sink, @Context final Sse sse) {
        administration.requireConfigured();
        SseChannel channel = new SseChannel(sink, sse);
        channel.attach(notifications.subscribePattern(NotificationSystem.ALL_WORKFLOWS,
                n -> channel.send(n.type(), null, n.json())), scheduler);
    }

    /** One task's events as SSE, live. */
    @GET
    @Path("tasks/{id}")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void followTask(@PathParam("id") final String taskId, @Context final SseEventSink sink,
            @Context final Sse sse) {
        SseChannel channel = new SseChannel(sink, sse);
        channel.attach(notifications.subscribe(NotificationSystem.taskChannel(taskId),
                n -> channel.send(n.type(), null, n.json())), scheduler);
    }

    private static String requiredType(final JsonObject request) {
        return JsonBody.text(request, "type").filter(t -> !t.isBlank())
                .orElseThrow(() -> ApiProblem.badRequest("Field 'type' (a non-empty string naming the event) is required"));
    }

    static long parseLastEventId(final String header) {
        if (header == null || header.isBlank()) {
            return 0;
        }
        try {
            return Long.parseLong(header.strip());
        } catch (NumberFormatException e) {
            throw ApiProblem.badRequest("Last-Event-ID must be the numeric id of an event this stream sent, got '"
                    + header + "'");
        }
    }
}
