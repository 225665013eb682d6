package io.compozy.cache.web.rest;

import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.memory.MessagePage;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.InputStream;
import java.util.Map;

/** {@code /api/memory/{key}}: conversation history. */
@Path("memory/{key}")
@ApplicationScoped
@Produces(MediaType.APPLICATION_JSON)
public class MemoryResource {

    private final MemoryStore memory;

    /** For CDI's proxy only. */
    protected MemoryResource() {
        this.memory = null;
    }

    @Inject
    public MemoryResource(final MemoryStore memory) {
        this.memory = memory;
    }

    /** {@code {"messages":[...],"tokens":n,"maxLen":m}} gives {@code {"length":L}}. */
    @POST
    @Path("messages")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response append(@PathParam("key") final String key, final InputStream body) {
        JsonObject request = JsonBody.object(body);
        long length = memory.append(key, JsonBody.array(request, "messages"), JsonBody.integer(request, "tokens", 0),
                JsonBody.toInt(JsonBody.integer(request, "maxLen", 0), "maxLen"));
        return Responses.json(Json.createObjectBuilder().add("length", length).build());
    }

    /** {@code {"messages":[...],"total":N}}; without offset and limit, every message. */
    @GET
    @Path("messages")
    public Response read(@PathParam("key") final String key, @QueryParam("offset") final String offset,
            @QueryParam("limit") final String limit) {
        MessagePage page = memory.readPage(key, JsonBody.queryInt(offset, "offset", 0),
                JsonBody.queryInt(limit, "limit", Integer.MAX_VALUE));
        return Responses.json(Json.createObjectBuilder()
                .add("messages", Json.createArrayBuilder(page.messages()))
                .add("total", page.total()).build());
    }

    /** {@code {"token_count":t,"message_count":c}} */
    @GET
    @Path("metadata")
    public Response metadata(@PathParam("key") final String key) {
        Map<String, Long> counts = memory.metadata(key);
        return Responses.json(Json.createObjectBuilder()
                .add("token_count", counts.get("token_count"))
                .add("message_count", counts.get("message_count")).build());
    }

    /** Replaces the history: {@code {"messages":[...],"tokens":n}} gives {@code {"length":L}}. */
    @PUT
    @Path("messages")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response replace(@PathParam("key") final String key, final InputStream body) {
        JsonObject request = JsonBody.object(body);
        var messages = JsonBody.array(request, "messages");
        memory.replace(key, messages, JsonBody.integer(request, "tokens", 0));
        return Responses.json(Json.createObjectBuilder().add("length", messages.size()).build());
    }

    /** {@code {"keep":k,"tokens":n}} gives {@code {"length":L}}. */
    @POST
    @Path("trim")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response trim(@PathParam("key") final String key, final InputStream body) {
        JsonObject request = JsonBody.object(body);
        long length = memory.trim(key, JsonBody.toInt(JsonBody.requiredInteger(request, "keep"), "keep"),
                JsonBody.integer(request, "tokens", 0));
        return Responses.json(Json.createObjectBuilder().add("length", length).build());
    }

    /** Removes the history and its metadata; 204 whether or not it existed. */
    @DELETE
    public Response delete(@PathParam("key") final String key) {
        memory.delete(key);
        return Response.noContent().build();
    }
}
