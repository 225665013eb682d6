package io.compozy.cache.web.rest;

import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.mcp.McpDefinitionStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
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

/** {@code /api/mcps}: MCP server definitions. */
@Path("mcps")
@ApplicationScoped
@Produces(MediaType.APPLICATION_JSON)
public class McpResource {

    private final McpDefinitionStore mcps;

    /** For CDI's proxy only. */
    protected McpResource() {
        this.mcps = null;
    }

    @Inject
    public McpResource(final McpDefinitionStore mcps) {
        this.mcps = mcps;
    }

    /** {@code {"items":[definition...]}}, sorted by name. */
    @GET
    public Response list() {
        JsonArrayBuilder items = Json.createArrayBuilder();
        mcps.list().values().forEach(items::add);
        return Responses.json(Json.createObjectBuilder().add("items", items).build());
    }

    /** Validates and stores; answers the definition as stored. */
    @PUT
    @Path("{name}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response put(@PathParam("name") final String name, final InputStream body) {
        return Responses.json(mcps.save(name, JsonBody.parse(body)));
    }

    /** The definition with its status under {@code "status"}. */
    @GET
    @Path("{name}")
    public Response get(@PathParam("name") final String name) {
        var definition = mcps.get(name)
                .orElseThrow(() -> StoreException.notFound("no MCP definition is named '" + name + "'"));
        return Responses.json(Json.createObjectBuilder().add("definition", definition).add("status", mcps.status(name)).build());
    }

    /** 204, or 404 for an unknown name. */
    @DELETE
    @Path("{name}")
    public Response delete(@PathParam("name") final String name) {
        mcps.delete(name);
        return Response.noContent().build();
    }
}
