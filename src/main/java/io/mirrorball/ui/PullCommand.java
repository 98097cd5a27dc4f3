package io.mirrorball.ui;

import io.mirrorball.ipfs.Cid;
import java.util.ArrayList;
import java.util.List;

/**
 * A command that pulls an image from this gateway.
 *
 * @param client {@code docker}, {@code podman}, {@code skopeo} or {@code containerd}
 * @param by     {@code tag}, {@code digest} or {@code cid}
 */
public record PullCommand(String client, String by, String text) {
    static final List<String> CLIENTS = List.of("docker", "podman", "skopeo", "containerd");

    /**
     * The commands for an image: by its tag (when it has one), by its digest, and by its CID (when it was
     * published). Over plain HTTP each client is told not to insist on TLS, except docker, which decides
     * that in its daemon's {@code insecure-registries}.
     *
     * @param host the host (and port) the visitor reached this gateway at
     */
    static List<PullCommand> of(String host, boolean https, ImagePage.Image image) {
        String name = image.repository().name();
        List<String[]> references = new ArrayList<>();
        if (image.tag() != null) {
            references.add(new String[] {"tag", host + "/" + name + ":" + image.tag()});
        }
        references.add(new String[] {"digest", host + "/" + name + "@" + image.facts().digest()});
        Cid cid = image.cid();
        if (cid != null) {
            references.add(new String[] {"cid", host + "/" + cid + ":latest"}); // every published image has tag latest
        }
        String directory = name.substring(name.lastIndexOf('/') + 1);
        List<PullCommand> commands = new ArrayList<>();
        for (String client : CLIENTS) {
            for (String[] reference : references) {
                commands.add(new PullCommand(client, reference[0], command(client, https, reference[1], directory)));
            }
        }
        return commands;
    }

    private static String command(String client, boolean https, String reference, String directory) {
        return switch (client) {
            case "docker" -> "docker pull " + reference;
            case "podman" -> "podman pull " + (https ? "" : "--tls-verify=false ") + reference;
            case "skopeo" -> "skopeo copy " + (https ? "" : "--src-tls-verify=false ") + "docker://" + reference
                    + " oci:" + directory;
            case "containerd" -> "ctr images pull " + (https ? "" : "--plain-http ") + reference;
            default -> throw new IllegalArgumentException("unknown client " + client);
        };
    }
}
