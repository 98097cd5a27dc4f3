package io.mirrorball.web;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parser of the Prometheus text exposition format 0.0.4 (and the OpenMetrics text it resembles) for tests: {@code # HELP} and {@code # TYPE}
 * lines, and samples {@code name{label="value",...} value [timestamp]} with the format's escapes. It
 * refuses what the format forbids (a sample of an undeclared family with a foreign suffix, a family
 * declared twice, a malformed line), so a test that reads metrics through it also checks the format.
 */
final class PrometheusText {
    record Sample(String name, Map<String, String> labels, double value) {
    }

    record Family(String name, String type, String help, List<Sample> samples) {
    }

    private final Map<String, Family> families;

    private PrometheusText(Map<String, Family> families) {
        this.families = families;
    }

    static PrometheusText parse(String text) {
        Map<String, Family> families = new LinkedHashMap<>();
        Map<String, String> help = new LinkedHashMap<>();
        String current = null;
        int lineNumber = 0;
        for (String line : text.split("\n", -1)) {
            lineNumber++;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("# HELP ")) {
                String[] parts = line.substring(7).split(" ", 2);
                help.put(parts[0], parts.length > 1 ? parts[1] : "");
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ");
                if (parts.length != 2 || !List.of("counter", "gauge", "summary", "histogram", "untyped",
                        "unknown", "info", "stateset", "gaugehistogram")
                        .contains(parts[1])) {
                    throw new IllegalArgumentException("line " + lineNumber + ": bad TYPE: " + line);
                }
                if (families.containsKey(parts[0])) {
                    throw new IllegalArgumentException("line " + lineNumber + ": family declared twice: " + parts[0]);
                }
                families.put(parts[0], new Family(parts[0], parts[1], help.getOrDefault(parts[0], ""),
                        new ArrayList<>()));
                current = parts[0];
                continue;
            }
            if (line.startsWith("#")) {
                continue;
            }
            Sample sample = sample(line, lineNumber);
            Family family = current == null ? null : families.get(current);
            if (family == null || !belongs(sample.name(), family)) {
                throw new IllegalArgumentException("line " + lineNumber + ": sample outside its family: " + line);
            }
            family.samples().add(sample);
        }
        return new PrometheusText(families);
    }

    private static boolean belongs(String sample, Family family) {
        String base = family.name();
        List<String> suffixes = switch (family.type()) {
            case "counter" -> List.of("", "_total", "_created"); // 0.0.4 declares TYPE x_total, OpenMetrics TYPE x
            case "summary" -> List.of("", "_count", "_sum", "_created");
            case "histogram" -> List.of("_bucket", "_count", "_sum", "_created");
            case "gaugehistogram" -> List.of("_bucket", "_gcount", "_gsum");
            case "info" -> List.of("_info");
            default -> List.of("");
        };
        return suffixes.stream().anyMatch(s -> sample.equals(base + s));
    }

    private static Sample sample(String line, int lineNumber) {
        int i = 0;
        while (i < line.length() && (Character.isLetterOrDigit(line.charAt(i)) || line.charAt(i) == '_'
                || line.charAt(i) == ':')) {
            i++;
        }
        String name = line.substring(0, i);
        if (name.isEmpty() || Character.isDigit(name.charAt(0))) {
            throw new IllegalArgumentException("line " + lineNumber + ": bad metric name: " + line);
        }
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf("=\"", i);
                String label = line.substring(i, eq);
                if (!label.matches("[a-zA-Z_][a-zA-Z0-9_]*")) {
                    throw new IllegalArgumentException("line " + lineNumber + ": bad label name: " + label);
                }
                StringBuilder value = new StringBuilder();
                int j = eq + 2;
                while (line.charAt(j) != '"') {
                    char c = line.charAt(j);
                    if (c == '\\') {
                        char escaped = line.charAt(++j);
                        value.append(switch (escaped) {
                            case 'n' -> '\n';
                            case '\\' -> '\\';
                            case '"' -> '"';
                            default -> throw new IllegalArgumentException("line " + lineNumber + ": bad escape");
                        });
                    } else {
                        value.append(c);
                    }
                    j++;
                }
                if (labels.put(label, value.toString()) != null) {
                    throw new IllegalArgumentException("line " + lineNumber + ": label twice: " + label);
                }
                i = j + 1;
                if (line.charAt(i) == ',') {
                    i++;
                }
            }
            i++;
        }
        if (i >= line.length() || line.charAt(i) != ' ') {
            throw new IllegalArgumentException("line " + lineNumber + ": no value: " + line);
        }
        String[] rest = line.substring(i + 1).trim().split(" ");
        if (rest.length > 2) {
            throw new IllegalArgumentException("line " + lineNumber + ": trailing text: " + line);
        }
        return new Sample(name, labels, value(rest[0], lineNumber));
    }

    private static double value(String text, int lineNumber) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                try {
                    yield Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("line " + lineNumber + ": bad value: " + text, e);
                }
            }
        };
    }

    Optional<Family> family(String name) {
        return Optional.ofNullable(families.get(name));
    }

    /** The family of this name (for a counter, also its name with {@code _total}) and type. */
    Family require(String name, String type) {
        Family family = family(name).or(() -> "counter".equals(type) ? family(name + "_total") : Optional.empty())
                .orElseThrow(() -> new AssertionError("no family " + name + " in "
                + families.keySet()));
        if (!family.type().equals(type)) {
            throw new AssertionError(name + " is a " + family.type() + ", not a " + type);
        }
        return family;
    }

    /** The value of the sample {@code name} with exactly these labels; 0 when there is none. */
    double value(String name, Map<String, String> labels) {
        for (Family family : families.values()) {
            for (Sample sample : family.samples()) {
                if (sample.name().equals(name) && sample.labels().equals(labels)) {
                    return sample.value();
                }
            }
        }
        return 0;
    }

    Map<String, Family> families() {
        return families;
    }
}
