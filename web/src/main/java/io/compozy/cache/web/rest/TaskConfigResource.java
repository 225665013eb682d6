package io.compozy.cache.web.rest;

import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.taskconfig.TaskConfigStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.InputStream;

/** {@code /api/task-configs}: task configurations with a TTL that reads extend. */
@Path("task-configs")
@ApplicationScoped
@Produces(MediaType.APPLICATION_JSON)
public class TaskConfigResource {

    private final TaskConfigStore configs;

    /** For CDI's proxy only. */
    protected TaskConfigResource() {
        this.configs = null;
    }

    @Inject
    public TaskConfigResource(final TaskConfigStore configs) {
        this.configs = configs;
    }

    /** {@code {"ids":[...]}} */
    @GET
    public Response list() {
        return Responses.json(Json.createObjectBuilder().add("ids", Json.createArrayBuilder(configs.listIds())).build());
    }

    /** Stores the JSON body for the configured TTL; answers {@code {"id","ttl_seconds"}}. */
    @PUT
    @Path("{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response put(@PathParam("id") final String id, final InputStream body) {
        configs.save(id, JsonBody.parse(body));
        return Responses.json(Json.createObjectBuilder().add("id", id)
                .add("ttl_seconds", configs.ttl().toSeconds()).build());
    }

    /** The stored JSON; the read restarts its TTL. */
    @GET
    @Path("{id}")
    public Response get(@PathParam("id") final String id) {
        return Responses.json(configs.get(id).orElseThrow(
                () -> StoreException.notFound("task config '" + id + "' does not exist (or its TTL ran out)")));
    }

    /** 204 whether or not it existed. */
    @DELETE
    @Path("{id}")
    public Response delete(@PathParam("id") final String id) {
        configs.delete(id);
        return Response.noContent().build();
    }
}
