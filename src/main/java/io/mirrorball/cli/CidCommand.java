package io.mirrorball.cli;

import io.mirrorball.oci.MediaTypes;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mirrorball cid NAME[:TAG|@DIGEST]}: asks a running gateway for the IPFS CID of an image
 * (the {@code X-Ipfs-Path} header of a manifest HEAD; with {@code --ipdr}, {@code X-Ipdr-Path}, the image
 * in ipdr's layout) and prints it. A gateway it cannot reach is
 * one line on standard error and exit code 1.
 */
@Command(name = "cid", mixinStandardHelpOptions = true,
        description = "Print the IPFS CID of an image pushed to (or pulled through) a mirrorball gateway.")
public final class CidCommand implements Callable<Integer> {
    static final String ACCEPT = MediaTypes.ACCEPT_ALL;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "name:tag or name@sha256:..., e.g. org/app:v1")
    String image;

    @Option(names = "--registry", paramLabel = "URL", defaultValue = "http://127.0.0.1:5000",
            description = "the gateway (default: ${DEFAULT-VALUE})")
    String registry;

    @Option(names = "--user", paramLabel = "USER:PASSWORD", description = "Basic credentials, if the gateway needs them")
    String user;

    @Option(names = "--ipdr", description = "print the CID of the image in ipdr's layout instead (for ipdr pulls)")
    boolean ipdr;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ImageRef ref = ImageRef.parse(image);
        String name = ref.name();
        String reference = ref.reference();
        URI uri = URI.create(registry.replaceAll("/+$", "") + ref.manifestPath());
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Accept", ACCEPT);
        if (user != null) {
            request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    user.getBytes(StandardCharsets.UTF_8)));
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpResponse<Void> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            LoggerFactory.getLogger("mirrorball").debug("mirrorball cid: {}", uri, e);
            err.println("mirrorball cid: cannot reach the gateway at " + registry + ": " + reason(e));
            return 1;
        }
        if (response.statusCode() != 200) {
            err.println("mirrorball cid: " + name + ":" + reference + ": the gateway answered " + response.statusCode());
            return 1;
        }
        String path = response.headers().firstValue(ipdr ? "X-Ipdr-Path" : "X-Ipfs-Path").orElse(null);
        if (path == null || !path.startsWith("/ipfs/")) {
            err.println("mirrorball cid: " + name + ":" + reference + " has no " + (ipdr ? "ipdr CID" : "IPFS CID")
                    + " at " + registry + " (not published there)");
            return 1;
        }
        out.println(path.substring("/ipfs/".length()));
        return 0;
    }

    /** Why a connection failed, in words ({@code connection refused}, {@code timed out}). */
    private static String reason(IOException e) {
        if (e instanceof java.net.ConnectException && (e.getMessage() == null || e.getMessage().isEmpty())) {
            return "connection refused";
        }
        if (e instanceof java.net.http.HttpTimeoutException) {
            return "timed out";
        }
        String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        return message.isEmpty() ? e.getClass().getSimpleName() : message.substring(0, 1).toLowerCase(java.util.Locale.ROOT)
                + message.substring(1);
    }
}
