package io.mirrorball.web;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.json.MetricsModule;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** The Dropwizard metrics of the gateway as JSON, at {@code metrics.path}. */
public final class MetricsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private transient MetricRegistry metrics;
    private transient ObjectMapper mapper;

    @Override
    public void init() {
        metrics = Gateway.from(getServletContext()).metrics();
        mapper = JsonMapper.builder().addModule(new MetricsModule(TimeUnit.SECONDS, TimeUnit.MILLISECONDS, false))
                .build();
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("application/json");
        response.setHeader("Cache-Control", "no-cache");
        mapper.writeValue(ClientStreams.output(response), metrics);
    }
}
