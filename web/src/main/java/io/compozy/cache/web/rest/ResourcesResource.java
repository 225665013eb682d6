package io.compozy.cache.web.rest;

import io.compozy.cache.web.store.StoreExecutors;
import io.compozy.cache.web.store.resource.ResourceKey;
import io.compozy.cache.web.store.resource.ResourceStore;
import io.compozy.cache.web.store.resource.ResourceTag;
import io.compozy.cache.web.store.resource.StoredResource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.EntityTag;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledExecutorService;

/**
 * {@code /api/resources/{project}/{type}}: versioned JSON with ETags. {@code If-Match} makes a PUT a
 * compare-and-set, {@code If-None-Match: *} an insert-if-absent. The id {@code events} is taken by the
 * event stream.
 */
@Path("resources/{project}/{type}")
@ApplicationScoped
public class ResourcesResource {

    private final ResourceStore resources;
    private final ScheduledExecutorService scheduler;

    /** For CDI's proxy only. */
    protected ResourcesResource() {
        this.resources = null;
        this.scheduler = null;
    }

    @Inject
    public ResourcesResource(final ResourceStore resources, final StoreExecutors executors) {
        this(resources, executors.scheduler());
    }

    public ResourcesResource(final ResourceStore resources, final ScheduledExecutorService scheduler) {
        this.resources = resources;
        this.scheduler = scheduler;
    }

    /** {@code {"items":[{"id","version"?,"etag"}]}} */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response list(@PathParam("project") final String project, @PathParam("type") final String type) {
        JsonArrayBuilder items = Json.createArrayBuilder();
        for (ResourceTag tag : resources.list(project, type)) {
            items.add(keyJson(tag.key()).add("etag", tag.etag()));
        }
        return Responses.json(Json.createObjectBuilder().add("items", items).build());
    }

    /** Put and delete events as SSE, starting with a {@code put} for every existing resource. */
    @GET
    @Path("events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void events(@PathParam("project") final String project, @PathParam("type") final String type,
            @Context final SseEventSink sink, @Context final Sse sse) {
        SseChannel channel = new SseChannel(sink, sse);
        channel.attach(resources.watch(project, type, event -> channel.send(event.type(), null, event.toJson().toString())),
                scheduler);
    }

    /** Exactly the stored canonical bytes, with {@code ETag: "<sha256>"}. */
    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public Response get(@PathParam("project") final String project, @PathParam("type") final String type,
            @PathParam("id") final String id, @QueryParam("version") final String version) {
        StoredResource stored = resources.get(key(project, type, id, version));
        return Response.ok(stored.json().getBytes(StandardCharsets.UTF_8), MediaType.APPLICATION_JSON_TYPE)
                .tag(new EntityTag(stored.etag())).build();
    }

    /** Stores the body; 412 when an If-Match or If-None-Match precondition fails, 404 when If-Match finds nothing. */
    @PUT
    @Path("{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response put(@PathParam("project") final String project, @PathParam("type") final String type,
            @PathParam("id") final String id, @QueryParam("version") final String version,
            @HeaderParam(HttpHeaders.IF_MATCH) final String ifMatch,
            @HeaderParam(HttpHeaders.IF_NONE_MATCH) final String ifNoneMatch, final InputStream body) {
        ResourceKey key = key(project, type, id, version);
        JsonValue value = JsonBody.parse(body);
        StoredResource stored;
        if (ifMatch != null && ifNoneMatch != null) {
            throw ApiProblem.badRequest("Send If-Match or If-None-Match, not both");
        } else if (ifMatch != null) {
            String expected = ifMatch.strip().equals("*") ? resources.get(key).etag() : unquote(ifMatch, "If-Match");
            stored = resources.putIfMatch(key, value, expected);
        } else if (ifNoneMatch != null) {
            if (!ifNoneMatch.strip().equals("*")) {
                throw ApiProblem.badRequest("If-None-Match supports only * (insert if absent)");
            }
            stored = resources.putIfMatch(key, value, "");
        } else {
            stored = resources.put(key, value);
        }
        return Response.ok(Json.createObjectBuilder().add("etag", stored.etag()).build().toString(),
                MediaType.APPLICATION_JSON_TYPE).tag(new EntityTag(stored.etag())).build();
    }

    /** Deletes; 204 whether or not it existed. */
    @DELETE
    @Path("{id}")
    public Response delete(@PathParam("project") final String project, @PathParam("type") final String type,
            @PathParam("id") final String id, @QueryParam("version") final String version) {
        resources.delete(key(project, type, id, version));
        return Response.noContent().build();
    }

    private static ResourceKey key(final String project, final String type, final String id, final String version) {
        return new ResourceKey(project, type, id, version == null || version.isEmpty() ? null : version);
    }

    private static JsonObjectBuilder keyJson(final ResourceKey key) {
        JsonObjectBuilder json = Json.createObjectBuilder().add("id", key.id());
        key.versionIfAny().ifPresent(v -> json.add("version", v));
        return json;
    }

    /** {@code "abc"} or {@code W/"abc"} gives {@code abc}; our ETags are strong, a weak one still names the bytes. */
    static String unquote(final String header, final String name) {
        String value = header.strip();
        if (value.startsWith("W/")) {
            value = value.substring(2);
        }
        if (value.length() < 2 || !value.startsWith("\"") || !value.endsWith("\"") || value.contains(",")) {
            throw ApiProblem.badRequest(name + " must be one quoted ETag, like \"" + "0f3c...\", as the ETag header gave it");
        }
        return value.substring(1, value.length() - 1);
    }
}
