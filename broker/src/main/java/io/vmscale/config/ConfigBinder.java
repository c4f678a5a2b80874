package io.vmscale.config;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Binds one kind of JSON configuration file to its root record, strictly: the keys a file gives override
 * the defaults (a resource beside the root record), and an unknown key, a wrong type or a value out of
 * range stops with one {@link ConfigException} naming the file, the key and what was expected.
 *
 * @param <T> the root record, one component per top-level key
 */
public final class ConfigBinder<T extends Record> {
    private static final ObjectMapper MAPPER = strictMapper();

    private final Class<T> root;
    private final String defaults;
    private final String inheriting;

    /**
     * @param root     the root record
     * @param defaults the name of the defaults resource, relative to {@code root}'s package
     */
    public ConfigBinder(Class<T> root, String defaults) {
        this(root, defaults, null);
    }

    /**
     * @param inheriting a top-level list of {@code root}s (or null): each element gives only what differs from the
     *                   top level, which it takes the rest from (its own such list is empty)
     */
    public ConfigBinder(Class<T> root, String defaults, String inheriting) {
        this.root = root;
        this.defaults = defaults;
        this.inheriting = inheriting;
    }

    private static ObjectMapper strictMapper() {
        JsonMapper mapper = JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        for (CoercionInputShape shape : new CoercionInputShape[] {
                CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean}) {
            mapper.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
        mapper.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Float).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Collection).setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        return mapper;
    }

    /** The built-in defaults alone. */
    public T defaults() {
        return bind("built-in defaults", defaultsTree());
    }

    /** The file's keys over the defaults. */
    public T load(Path file) {
        String name = file.toString();
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(name + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(name + ": cannot read: " + e.getMessage());
        }
        return parse(name, text);
    }

    /** The given JSON text's keys over the defaults; {@code name} is used in messages. */
    public T parse(String name, String json) {
        JsonNode given;
        try {
            given = MAPPER.readTree(json);
        } catch (JsonParseException e) {
            throw new ConfigException(name + ": not valid JSON at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new ConfigException(name + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (given == null || !given.isObject()) {
            throw new ConfigException(name + ": expected a JSON object at the top level");
        }
        ObjectNode merged = defaultsTree();
        overlay(merged, (ObjectNode) given);
        if (inheriting != null) {
            inherit(name, merged);
        }
        return bind(name, merged);
    }

    /** Each element of the inheriting list becomes the top level with the element's keys over it. */
    private void inherit(String name, ObjectNode merged) {
        JsonNode list = merged.get(inheriting);
        if (list == null || !list.isArray()) {
            return; // bound as it is: its type is reported
        }
        ObjectNode top = merged.deepCopy();
        top.remove(inheriting);
        for (int i = 0; i < list.size(); i++) {
            JsonNode element = list.get(i);
            if (!element.isObject()) {
                throw new ConfigException(name + ": key '" + inheriting + "[" + i + "]': expected an object (what "
                        + "differs from the top level), got " + describe(element));
            }
            if (element.has(inheriting)) {
                throw new ConfigException(name + ": key '" + inheriting + "[" + i + "]." + inheriting + "': "
                        + inheriting + " do not nest (every one is a list element of the top level)");
            }
            ObjectNode whole = top.deepCopy();
            overlay(whole, (ObjectNode) element);
            whole.set(inheriting, MAPPER.createArrayNode());
            ((com.fasterxml.jackson.databind.node.ArrayNode) list).set(i, whole);
        }
    }

    private ObjectNode defaultsTree() {
        try (InputStream in = root.getResourceAsStream(defaults)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + defaults);
            }
            return (ObjectNode) MAPPER.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Objects merge key by key; any other value (lists included) replaces the default. */
    private static void overlay(ObjectNode base, ObjectNode over) {
        Iterator<Map.Entry<String, JsonNode>> fields = over.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode current = base.get(field.getKey());
            if (current instanceof ObjectNode currentObject && field.getValue() instanceof ObjectNode overObject) {
                overlay(currentObject, overObject);
            } else {
                base.set(field.getKey(), field.getValue());
            }
        }
    }

    private T bind(String name, JsonNode tree) {
        checkKeys(name, tree, root, "");
        try {
            return MAPPER.treeToValue(tree, root);
        } catch (UnrecognizedPropertyException e) {
            String key = join(path(e), e.getPropertyName());
            throw new ConfigException(name + ": unknown key '" + key + "'" + known(e.getKnownPropertyIds()));
        } catch (ValueInstantiationException e) {
            if (e.getCause() instanceof InvalidValueException invalid) {
                String key = join(path(e), invalid.key);
                throw new ConfigException(name + ": key '" + key + "': expected " + invalid.expected + ", got "
                        + invalid.actual);
            }
            throw new ConfigException(name + ": key '" + path(e) + "': " + e.getOriginalMessage());
        } catch (MismatchedInputException e) {
            String key = path(e);
            JsonNode actual = at(tree, e);
            throw new ConfigException(name + ": key '" + key + "': expected " + describe(e.getTargetType())
                    + ", got " + (actual == null ? "nothing" : describe(actual)));
        } catch (JsonProcessingException e) {
            throw new ConfigException(name + ": " + e.getOriginalMessage());
        }
    }

    /**
     * Reports the first unknown key before any value is checked: Jackson builds a record before it
     * reports the unknown keys beside it, so a typo would otherwise read as a missing value.
     */
    private static void checkKeys(String name, JsonNode node, Class<?> type, String path) {
        if (!type.isRecord() || !node.isObject()) {
            return;
        }
        Map<String, RecordComponent> components = new TreeMap<>();
        for (RecordComponent component : type.getRecordComponents()) {
            components.put(component.getName(), component);
        }
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
            RecordComponent component = components.get(field.getKey());
            if (component == null) {
                throw new ConfigException(name + ": unknown key '" + key + "'" + known(new ArrayList<>(components.keySet())));
            }
            checkKeys(name, field.getValue(), component.getType(), key);
            if (List.class.isAssignableFrom(component.getType()) && field.getValue().isArray()
                    && component.getGenericType() instanceof ParameterizedType list
                    && list.getActualTypeArguments()[0] instanceof Class<?> element) {
                for (int i = 0; i < field.getValue().size(); i++) {
                    checkKeys(name, field.getValue().get(i), element, key + "[" + i + "]");
                }
            }
        }
    }

    private static String path(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (out.length() > 0) {
                    out.append('.');
                }
                out.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    /** The path of a record-level error points at the record; its key was reported relative to it. */
    private static String join(String parent, String key) {
        if (parent.isEmpty()) {
            return key;
        }
        return parent.endsWith(key) ? parent : parent + (key.startsWith("[") ? "" : ".") + key;
    }

    private static JsonNode at(JsonNode tree, JsonMappingException e) {
        JsonNode node = tree;
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (node == null) {
                return null;
            }
            node = ref.getFieldName() != null ? node.get(ref.getFieldName()) : node.get(ref.getIndex());
        }
        return node;
    }

    private static String known(Collection<?> ids) {
        if (ids == null || ids.isEmpty()) {
            return "";
        }
        return " (known keys here: " + ids.stream().map(String::valueOf).sorted().collect(Collectors.joining(", ")) + ")";
    }

    private static String describe(Class<?> type) {
        if (type == null) {
            return "another type";
        }
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "an integer";
        }
        if (type == double.class || type == Double.class) {
            return "a number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "a list";
        }
        return "an object";
    }

    private static String describe(JsonNode node) {
        String json = node.toString();
        if (json.length() > 40) {
            json = json.substring(0, 37) + "...";
        }
        String kind = switch (node.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> node.isIntegralNumber() ? "an integer" : "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            case ARRAY -> "a list";
            case OBJECT -> "an object";
            default -> "a value";
        };
        return node.isNull() ? kind : kind + " (" + json + ")";
    }
}
