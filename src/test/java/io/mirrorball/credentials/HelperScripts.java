package io.mirrorball.credentials;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Writes {@code docker-credential-NAME} shell scripts into a directory that tests put first on a PATH. */
final class HelperScripts {
    /** Where the scripts find cat, printf, sleep and head. */
    static final String SYSTEM_PATH = "/usr/bin" + File.pathSeparator + "/bin";

    private HelperScripts() {
    }

    /** A PATH with {@code dir} first. */
    static String path(Path dir) {
        return dir + File.pathSeparator + SYSTEM_PATH;
    }

    /** Writes an executable {@code docker-credential-<name>} running {@code body} under /bin/sh. */
    static Path write(Path dir, String name, String body) throws IOException {
        Path script = dir.resolve("docker-credential-" + name);
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    /**
     * A helper that appends each server URL it is asked about to {@code calls} in its directory, and knows
     * Hub ({@code hubuser}), {@code token.example.com} (an identity token) and the hosts in {@code extra}
     * ({@code host user secret} lines, answered as Basic); anything else is "credentials not found".
     */
    static Path recording(Path dir, String name, String... extra) throws IOException {
        StringBuilder cases = new StringBuilder();
        for (String line : extra) {
            String[] parts = line.split(" ");
            cases.append("  ").append(parts[0]).append(") printf '{\"ServerURL\":\"%s\",\"Username\":\"")
                    .append(parts[1]).append("\",\"Secret\":\"").append(parts[2]).append("\"}' \"$url\";;\n");
        }
        return write(dir, name, """
                [ "$1" = get ] || exit 9
                url=$(cat)
                printf '%s\\n' "$url" >> "$(dirname "$0")/calls-NAME"
                case "$url" in
                  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"hubuser","Secret":"hub-secret"}' "$url";;
                  token.example.com) printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-tok"}' "$url";;
                CASES  *) echo "credentials not found in native keychain"; exit 1;;
                esac""".replace("NAME", name).replace("CASES", cases.toString()));
    }

    /** The server URLs a {@link #recording} helper was asked about, in order. */
    static java.util.List<String> calls(Path dir, String name) throws IOException {
        Path calls = dir.resolve("calls-" + name);
        return Files.exists(calls) ? Files.readAllLines(calls) : java.util.List.of();
    }
}
