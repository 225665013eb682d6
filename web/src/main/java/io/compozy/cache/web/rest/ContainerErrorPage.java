package io.compozy.cache.web.rest;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The error page (web.xml) for answers the servlet container gives before JAX-RS sees the request: a path
 * with an encoded {@code /}, {@code \} or {@code ..}, a login the admin endpoints refuse. It turns them into
 * the same {@code application/problem+json} as {@link ProblemMapper}, without the cause's text.
 */
@WebServlet(ContainerErrorPage.PATH)
public class ContainerErrorPage extends HttpServlet {

    static final String PATH = "/container-error";
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(final HttpServletRequest request, final HttpServletResponse response) throws IOException {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        int status = code instanceof Integer number ? number : HttpServletResponse.SC_NOT_FOUND;
        String detail = switch (status) {
            case 400 -> "The request is malformed: a path segment may not hold an encoded '/', '\\' or '..', and"
                    + " the request line and headers must be well-formed; see docs/api.md";
            case 401 -> "This endpoint needs the administrator's login (HTTP Basic); see docs/security.md";
            case 403 -> "This endpoint needs a user in the admin role; see docs/security.md";
            case 404 -> "There is no endpoint at this path; see docs/api.md for the API";
            case 405 -> "This endpoint does not accept that HTTP method; see docs/api.md";
            default -> "The request was refused (HTTP " + status + "); see docs/api.md";
        };
        String title = status == 401 ? "Unauthorized" : status == 403 ? "Forbidden" : "HTTP " + status;
        response.setStatus(status);
        response.setContentType(ProblemMapper.PROBLEM_JSON);
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.getWriter().write(ProblemMapper.body(status, ProblemMapper.slug(title), title, detail));
    }
}
