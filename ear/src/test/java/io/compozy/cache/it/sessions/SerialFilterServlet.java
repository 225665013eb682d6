package io.compozy.cache.it.sessions;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.ObjectInputFilter;

/** Says which JVM-wide deserialization filter ({@code jdk.serialFilter}) the server's sessions are read under. */
@WebServlet("/serial-filter")
public class SerialFilterServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(final HttpServletRequest request, final HttpServletResponse response) throws IOException {
        response.setContentType("text/plain");
        response.getWriter().print(String.valueOf(ObjectInputFilter.Config.getSerialFilter()));
    }
}
