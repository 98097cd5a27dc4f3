package io.mirrorball.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration as one YAML tree: the built-in defaults ({@code defaults.yml}, which is also the
 * schema), with the file merged over them and then the {@code MIRRORBALL_*} environment.
 *
 * <p>Every value in the result is text (a list of values is joined with commas, as the environment
 * writes it), so that {@link RawConfig} binds without loss and validation can quote what was written.
 * A key the schema does not know, a mapping where a value belongs, or a value where a section belongs
 * is refused with its path ({@code upstreams[1].tag-ttl}, {@code auth.access[2].pul}).
 *
 * <p>A few keys are lists of mappings ({@link #ENTRY_LISTS}: {@code upstreams}, {@code auth.access},
 * {@code auth.groups}); each entry is checked against the schema of one entry and gets its defaults.
 * Scalar keys are overridden by {@code MIRRORBALL_<PATH>}. A list of mappings is replaced whole by
 * {@code MIRRORBALL_<PATH>} (YAML flow text, {@code [{name: ghcr.io, url: https://ghcr.io}]}), and one
 * key of entry N (from 0; N may be the next new entry) is set by {@code MIRRORBALL_<PATH>_<N>_<KEY>},
 * e.g. {@code MIRRORBALL_UPSTREAMS_0_PASSWORD} or {@code MIRRORBALL_AUTH_ACCESS_1_PULL}.
 */
final class ConfigTree {
    static final String UPSTREAMS = "upstreams";
    static final String AUTH_ACCESS = "auth.access";
    static final String AUTH_GROUPS = "auth.groups";
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    /** The schema and defaults; never handed out, only copies of it. */
    private static final ObjectNode DEFAULTS = readDefaults();
    /**
     * The lists of mappings, by dotted path, each with the schema of one entry (its keys and their
     * defaults): an entry of {@code upstreams} has the keys of {@code upstream}.
     */
    private static final Map<String, ObjectNode> ENTRY_LISTS = Map.of(
            UPSTREAMS, ((ObjectNode) DEFAULTS.get("upstream")).deepCopy(),
            AUTH_ACCESS, entrySchema("{prefix: '', pull: [], push: [], delete: []}"),
            AUTH_GROUPS, entrySchema("{name: '', members: []}"));
    /** Every scalar or list-of-values key, dotted, in documentation order. */
    private static final List<String> KEYS = leaves(DEFAULTS, "", new ArrayList<>());
    private static final Map<String, String> ENV_TO_KEY = envToKey();

    private ConfigTree() {
    }

    static List<String> keys() {
        return KEYS;
    }

    /** The defaults, as a tree of text values. */
    static ObjectNode defaults() {
        ObjectNode tree = YAML.createObjectNode();
        merge(DEFAULTS, tree, DEFAULTS, "");
        return tree;
    }

    /** Merges a YAML file over {@code tree}; an empty file changes nothing. */
    static void mergeFile(ObjectNode tree, Path file) {
        JsonNode root;
        try (InputStream in = Files.newInputStream(file)) {
            root = YAML.readTree(in);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), "config file not found");
        } catch (JacksonException e) {
            throw new ConfigException(file.toString(), "invalid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"), e);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), "cannot read config file: " + e, e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return;
        }
        if (!root.isObject()) {
            throw new ConfigException(file.toString(), "the top level must be a mapping of sections, not "
                    + describe(root));
        }
        merge(DEFAULTS, tree, root, "");
    }

    /** Applies every {@code MIRRORBALL_*} variable (except {@link ConfigLoader#CONFIG_FILE_ENV}) to {@code tree}. */
    static void mergeEnv(ObjectNode tree, Map<String, String> env) {
        // list path -> entry index -> variable -> value, applied after the whole-list variables
        Map<String, TreeMap<Integer, Map<String, String>>> entries = new TreeMap<>();
        for (String name : new TreeSet<>(env.keySet())) {
            if (!name.startsWith(ConfigLoader.ENV_PREFIX) || name.equals(ConfigLoader.CONFIG_FILE_ENV)) {
                continue;
            }
            String value = env.get(name);
            String key = ENV_TO_KEY.get(name);
            if (key != null) {
                setNode(tree, key, TextNode.valueOf(value));
                continue;
            }
            String list = listOfVariable(name);
            if (list != null) {
                setNode(tree, list, entryList(list, value));
                continue;
            }
            Matcher entry = null;
            for (String path : ENTRY_LISTS.keySet()) {
                Matcher m = entryEnvPattern(path).matcher(name);
                if (m.matches()) {
                    entry = m;
                    entries.computeIfAbsent(path, p -> new TreeMap<>())
                            .computeIfAbsent(Integer.parseInt(m.group(1)), i -> new TreeMap<>()).put(name, value);
                    break;
                }
            }
            if (entry == null) {
                List<String> lists = new ArrayList<>();
                new TreeSet<>(ENTRY_LISTS.keySet()).forEach(path -> lists.add(envName(path) + ", " + envName(path)
                        + "_<N>_<KEY>"));
                throw new ConfigException(name, "unknown environment variable (known: "
                        + String.join(", ", ENV_TO_KEY.keySet()) + ", " + String.join(", ", lists) + ")");
            }
        }
        entries.forEach((path, byIndex) -> setEntries(tree, path, byIndex));
    }

    private static void setEntries(ObjectNode tree, String path, TreeMap<Integer, Map<String, String>> byIndex) {
        ArrayNode list = (ArrayNode) nodeAt(tree, path);
        ObjectNode schema = ENTRY_LISTS.get(path);
        byIndex.forEach((index, values) -> {
            if (index > list.size()) {
                throw new ConfigException(values.keySet().iterator().next(), "there is no " + path + " entry "
                        + (index - 1) + "; number the entries from 0 without gaps (the file has " + list.size() + ")");
            }
            if (index == list.size()) {
                list.add(newEntry(schema, path + "[" + index + "]"));
            }
            ObjectNode target = (ObjectNode) list.get(index);
            values.forEach((name, value) -> {
                String suffix = entryEnvPattern(path).matcher(name).replaceFirst("$2");
                String key = entryKeyOf(schema, suffix);
                if (key == null) {
                    throw new ConfigException(name, "unknown key " + suffix + " of a " + path + " entry (known: "
                            + new TreeSet<>(envSuffixes(schema)) + ")");
                }
                target.set(key, TextNode.valueOf(value));
            });
        });
    }

    /** The override variable of a dotted key: {@code MIRRORBALL_} and the path upper-cased, '.' and '-' as '_'. */
    static String envName(String key) {
        return ConfigLoader.ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_')
                .replace('[', '_').replace("]", "");
    }

    // ---- merging --------------------------------------------------------------------------------

    private static void merge(ObjectNode schema, ObjectNode target, JsonNode source, String prefix) {
        for (Map.Entry<String, JsonNode> field : source.properties()) {
            String name = field.getKey();
            String path = prefix.isEmpty() ? name : prefix + "." + name;
            JsonNode node = field.getValue();
            JsonNode expected = schema.get(name);
            if (expected == null) {
                throw new ConfigException(path, "unknown configuration key" + suggestion(schema, prefix, name));
            }
            if (ENTRY_LISTS.containsKey(path)) {
                target.set(name, entryList(node, path));
            } else if (expected.isObject()) {
                if (node.isNull()) {
                    if (!target.has(name)) {
                        target.set(name, YAML.createObjectNode());
                        merge((ObjectNode) expected, (ObjectNode) target.get(name), expected, path);
                    }
                    continue; // "section:" with nothing keeps the defaults
                }
                if (!node.isObject()) {
                    throw new ConfigException(path, "must be a section with keys " + children(expected) + ", not "
                            + describe(node));
                }
                if (!target.has(name)) {
                    target.set(name, YAML.createObjectNode());
                }
                merge((ObjectNode) expected, (ObjectNode) target.get(name), node, path);
            } else if (expected.isArray() && node.isArray()) {
                List<String> items = new ArrayList<>();
                for (JsonNode item : node) {
                    if (item.isContainerNode() || item.isNull()) {
                        throw new ConfigException(path, "list items must be single values, not " + describe(item));
                    }
                    items.add(item.asText());
                }
                target.set(name, TextNode.valueOf(String.join(",", items)));
            } else if (node.isContainerNode()) {
                throw new ConfigException(path, "must be a single value, not " + describe(node));
            } else if (!node.isNull()) { // "key:" with nothing keeps the default
                target.set(name, TextNode.valueOf(node.asText()));
            }
        }
    }

    /** The list of mappings at {@code path} from the text of its whole-list variable. */
    private static ArrayNode entryList(String path, String text) {
        if (text.isBlank()) {
            return YAML.createArrayNode();
        }
        JsonNode node;
        try {
            node = YAML.readTree(text);
        } catch (JacksonException e) {
            throw new ConfigException(envName(path), "invalid YAML: " + e.getOriginalMessage()
                    + " (write a list of mappings such as " + example(path) + ")");
        }
        return entryList(node, path);
    }

    private static ArrayNode entryList(JsonNode node, String path) {
        ObjectNode schema = ENTRY_LISTS.get(path);
        ArrayNode list = YAML.createArrayNode();
        if (node == null || node.isNull() || node.isMissingNode()) {
            return list;
        }
        if (!node.isArray()) {
            throw new ConfigException(path, "must be a list of " + noun(path) + ", each a mapping with keys "
                    + children(schema) + ", not " + describe(node));
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            String itemPath = path + "[" + i + "]";
            if (!item.isObject()) {
                throw new ConfigException(itemPath, "must be a mapping with keys " + children(schema)
                        + ", not " + describe(item));
            }
            ObjectNode entry = newEntry(schema, itemPath);
            merge(schema, entry, item, itemPath);
            list.add(entry);
        }
        return list;
    }

    private static String noun(String path) {
        return switch (path) {
            case AUTH_ACCESS -> "access rules";
            case AUTH_GROUPS -> "groups";
            default -> path;
        };
    }

    private static String example(String path) {
        return switch (path) {
            case UPSTREAMS -> "[{name: ghcr.io, url: https://ghcr.io}]";
            case AUTH_ACCESS -> "[{prefix: team-a/, pull: [alice, '@devs'], push: [alice]}]";
            case AUTH_GROUPS -> "[{name: devs, members: [bob, carol]}]";
            default -> "[{key: value}]";
        };
    }

    /** An entry of a list of mappings holding the defaults. */
    private static ObjectNode newEntry(ObjectNode schema, String path) {
        ObjectNode entry = YAML.createObjectNode();
        merge(schema, entry, schema, path);
        return entry;
    }

    private static JsonNode nodeAt(ObjectNode tree, String key) {
        JsonNode node = tree;
        for (String part : key.split("\\.")) {
            node = node.get(part);
        }
        return node;
    }

    private static void setNode(ObjectNode tree, String key, JsonNode value) {
        String[] path = key.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < path.length - 1; i++) {
            node = (ObjectNode) node.get(path[i]);
        }
        node.set(path[path.length - 1], value);
    }

    private static String listOfVariable(String name) {
        for (String path : ENTRY_LISTS.keySet()) {
            if (envName(path).equals(name)) {
                return path;
            }
        }
        return null;
    }

    private static Pattern entryEnvPattern(String path) {
        return Pattern.compile(Pattern.quote(envName(path)) + "_(\\d{1,4})_(.+)");
    }

    // ---- the schema -----------------------------------------------------------------------------

    private static ObjectNode readDefaults() {
        try (InputStream in = ConfigTree.class.getResourceAsStream("defaults.yml")) {
            if (in == null) {
                throw new IllegalStateException("defaults.yml is missing from the class path");
            }
            return (ObjectNode) YAML.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("reading defaults.yml", e);
        }
    }

    private static ObjectNode entrySchema(String yaml) {
        try {
            return (ObjectNode) YAML.readTree(yaml);
        } catch (IOException e) {
            throw new UncheckedIOException("entry schema " + yaml, e);
        }
    }

    private static List<String> leaves(JsonNode node, String prefix, List<String> keys) {
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            String key = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            if (field.getValue().isObject()) {
                leaves(field.getValue(), key, keys);
            } else if (!ENTRY_LISTS.containsKey(key)) {
                keys.add(key);
            }
        }
        return Collections.unmodifiableList(keys);
    }

    private static Map<String, String> envToKey() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String key : KEYS) {
            String previous = m.put(envName(key), key);
            if (previous != null) {
                throw new IllegalStateException("keys " + previous + " and " + key + " share " + envName(key));
            }
        }
        return Collections.unmodifiableMap(m);
    }

    private static List<String> envSuffixes(ObjectNode schema) {
        List<String> suffixes = new ArrayList<>();
        schema.fieldNames().forEachRemaining(k -> suffixes.add(k.toUpperCase(Locale.ROOT).replace('-', '_')));
        return suffixes;
    }

    private static String entryKeyOf(ObjectNode schema, String envSuffix) {
        for (var it = schema.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (key.toUpperCase(Locale.ROOT).replace('-', '_').equals(envSuffix)) {
                return key;
            }
        }
        return null;
    }

    private static Set<String> children(JsonNode section) {
        Set<String> names = new TreeSet<>();
        section.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String suggestion(ObjectNode schema, String prefix, String name) {
        String wanted = squash(name);
        for (String known : children(schema)) {
            if (squash(known).equals(wanted)) {
                return " (did you mean " + (prefix.isEmpty() ? known : prefix + "." + known) + "?)";
            }
        }
        return prefix.isEmpty() ? " (known sections: " + children(schema) + ")"
                : " (known keys of " + prefix + ": " + children(schema) + ")";
    }

    private static String squash(String key) {
        return key.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    }

    static String describe(JsonNode node) {
        if (node.isObject()) {
            return "a mapping";
        }
        if (node.isArray()) {
            return "a list";
        }
        return "'" + node.asText() + "'";
    }
}
