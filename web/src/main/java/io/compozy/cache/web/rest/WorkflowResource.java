package io.compozy.cache.web.rest;

import io.compozy.cache.web.store.resource.ResourceTag;
import io.compozy.cache.web.workflow.WorkflowDefinitions;
import io.compozy.cache.web.workflow.WorkflowRunner;
import io.compozy.cache.web.workflow.WebhookRateLimit;
import io.compozy.cache.web.workflow.WebhookSignatures;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.InputStream;
import java.net.URI;
import java.util.Map;

/**
 * {@code /api/workflows/{project}}: load a bundle of workflow definitions, list them, and start
 * executions, directly or by a webhook delivery with an idempotency key.
 */
@Path("workflows/{project}")
@ApplicationScoped
@Produces(MediaType.APPLICATION_JSON)
public class WorkflowResource {

    private final WorkflowDefinitions definitions;
    private final WorkflowRunner runner;
    private final WebhookSignatures signatures;
    private final WebhookRateLimit rateLimit;

    /** For CDI's proxy only. */
    protected WorkflowResource() {
        this.definitions = null;
        this.runner = null;
        this.signatures = null;
        this.rateLimit = null;
    }

    @Inject
    public WorkflowResource(final WorkflowDefinitions definitions, final WorkflowRunner runner,
                            final WebhookSignatures signatures, final WebhookRateLimit rateLimit) {
        this.definitions = definitions;
        this.runner = runner;
        this.signatures = signatures;
        this.rateLimit = rateLimit;
    }

    /**
     * {@code {"workflows":{"<id>":<definition>,...}}} stores every definition (all checked first: one
     * invalid definition stores none) and answers {@code {"project","workflows":[{"id","etag"}]}}.
     */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response load(@PathParam("project") final String project, final InputStream body) {
        JsonValue workflows = JsonBody.object(body).get("workflows");
        if (!(workflows instanceof JsonObject byId)) {
            throw ApiProblem.badRequest("Field 'workflows' is required: an object of definitions by id,"
                    + " {\"workflows\":{\"<id>\":{\"tasks\":[...]}}}");
        }
        JsonArrayBuilder stored = Json.createArrayBuilder();
        for (Map.Entry<String, String> entry : definitions.putAll(project, byId).entrySet()) {
            stored.add(Json.createObjectBuilder().add("id", entry.getKey()).add("etag", entry.getValue()));
        }
        return Responses.json(Json.createObjectBuilder().add("project", project).add("workflows", stored).build());
    }

    /** {@code {"items":[{"id","etag"}]}} */
    @GET
    public Response list(@PathParam("project") final String project) {
        JsonArrayBuilder items = Json.createArrayBuilder();
        for (ResourceTag tag : definitions.list(project)) {
            items.add(Json.createObjectBuilder().add("id", tag.key().id()).add("etag", tag.etag()));
        }
        return Responses.json(Json.createObjectBuilder().add("items", items).build());
    }

    /** {@code {"input":<any JSON>?, "memoryKey":"..."?}} gives 202 with the execution id. */
    @POST
    @Path("{id}/executions")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response execute(@PathParam("project") final String project, @PathParam("id") final String id,
            final InputStream body) {
        JsonObject request = JsonBody.object(body);
        String memoryKey = JsonBody.text(request, "memoryKey").orElse(null);
        if (memoryKey != null && memoryKey.isBlank()) {
            throw ApiProblem.badRequest("Field 'memoryKey' must not be empty; leave it out for a conversation of the execution's own");
        }
        return accepted(runner.start(project, id, request.getOrDefault("input", JsonValue.NULL), memoryKey));
    }

    /**
     * A webhook delivery: the JSON body is the execution's input; the idempotency key is the
     * {@code X-Idempotency-Key} header or the configured body field. 202 with the execution id the
     * first time, 409 for a duplicate (which starts nothing).
     */
    @POST
    @Path("{id}/webhook")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response webhook(@PathParam("project") final String project, @PathParam("id") final String id,
            @HeaderParam(WebhookResource.IDEMPOTENCY_HEADER) final String idempotencyKey,
            @HeaderParam(WebhookSignatures.HEADER) final String signature, final InputStream body) {
        byte[] raw = readBody(body); // the signature covers the bytes as sent
        try {
            signatures.check(project, id, raw, signature);
        } catch (WebhookSignatures.SignatureRefused e) {
            throw new ApiProblem(Response.Status.UNAUTHORIZED, "webhook-signature", "Webhook signature refused",
                    e.getMessage() + "; no execution was started");
        }
        // Counted after the signature: forged deliveries cannot use up the sender's allowance.
        if (!rateLimit.tryAcquire(project, id)) {
            throw new ApiProblem(Response.Status.TOO_MANY_REQUESTS, "webhook-rate-limited", "Too many deliveries",
                    "Workflow '" + id + "' has taken its " + rateLimit.perMinute() + " deliveries of the last minute ("
                            + WebhookRateLimit.PER_MINUTE_KEY + "); no execution was started, try again later");
        }
        JsonValue payload = JsonBody.parse(new java.io.ByteArrayInputStream(raw));
        return runner.startFromWebhook(project, id, idempotencyKey, payload).map(WorkflowResource::accepted)
                .orElseThrow(() -> new ApiProblem(Response.Status.CONFLICT, "duplicate-delivery", "Duplicate delivery",
                        "This delivery to workflow '" + id + "' was already accepted within the idempotency TTL;"
                                + " no execution was started"));
    }

    private static Response accepted(final String execId) {
        String self = "/api/executions/" + execId;
        return Response.accepted(Json.createObjectBuilder()
                        .add("executionId", execId)
                        .add("status", "queued")
                        .add("links", Json.createObjectBuilder().add("self", self).add("stream", self + "/stream"))
                        .build().toString())
                .type(MediaType.APPLICATION_JSON_TYPE).location(URI.create(self)).build();
    }

    private static byte[] readBody(final InputStream body) {
        try {
            return body.readAllBytes(); // within api.max_body_bytes: BodySizeLimit wraps the stream
        } catch (java.io.IOException e) {
            throw ApiProblem.badRequest("The request body could not be read: it broke off");
        }
    }
}
