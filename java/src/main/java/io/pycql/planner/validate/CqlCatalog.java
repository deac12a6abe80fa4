package io.pycql.planner.validate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pycql.planner.catalog.CqlColumn;
import io.pycql.planner.catalog.CqlSourceTable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The catalog JSON the Python side sends with each statement: declared
 * streams, tables and views. Names are looked up case-insensitively.
 */
public final class CqlCatalog {
  /** A declared view: its CQL text and optional column names. */
  public static final class View {
    public final String name;
    public final String query;
    public final List<String> columnNames;

    View(String name, String query, List<String> columnNames) {
      this.name = name;
      this.query = query;
      this.columnNames = List.copyOf(columnNames);
    }
  }

  private final Map<String, CqlSourceTable> sources = new LinkedHashMap<>();
  private final Map<String, View> views = new LinkedHashMap<>();

  private static String key(String name) {
    return name.toUpperCase(Locale.ROOT);
  }

  public static CqlCatalog parse(String json) {
    CqlCatalog c = new CqlCatalog();
    if (json == null || json.isBlank()) {
      return c;
    }
    final JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (Exception e) {
      throw new IllegalArgumentException("Bad catalog JSON: " + e.getMessage());
    }
    for (JsonNode s : root.path("streams")) {
      c.addSource(s, true);
    }
    for (JsonNode t : root.path("tables")) {
      c.addSource(t, false);
    }
    for (JsonNode v : root.path("views")) {
      List<String> cols = new ArrayList<>();
      for (JsonNode col : v.path("columns")) {
        cols.add(col.path("name").asText());
      }
      String name = v.path("name").asText();
      c.views.put(key(name), new View(name, v.path("query").asText(), cols));
    }
    return c;
  }

  private void addSource(JsonNode s, boolean stream) {
    String name = s.path("name").asText();
    List<CqlColumn> cols = new ArrayList<>();
    for (JsonNode col : s.path("columns")) {
      cols.add(new CqlColumn(col.path("name").asText(), col.path("type").asText(),
          !col.has("nullable") || col.path("nullable").asBoolean(true),
          intOrNull(col.get("precision")), intOrNull(col.get("scale"))));
    }
    List<String> pk = new ArrayList<>();
    for (JsonNode k : s.path("primary_key")) {
      pk.add(k.asText());
    }
    List<String> partitionKey = new ArrayList<>();
    for (JsonNode k : s.path("key")) {
      partitionKey.add(k.asText());
    }
    Integer partitions = intOrNull(s.get("partitions"));
    sources.put(key(name), new CqlSourceTable(name, stream, textOrNull(s.get("topic")),
        textOrNull(s.get("timestamp")), textOrNull(s.get("format")), pk, cols, partitionKey,
        partitions == null ? 1 : Math.max(1, partitions)));
  }

  private static Integer intOrNull(JsonNode n) {
    return n == null || n.isNull() ? null : n.asInt();
  }

  private static String textOrNull(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  /** The declared stream or table, or null. */
  public CqlSourceTable source(String name) {
    return sources.get(key(name));
  }

  /** The declared view, or null. */
  public View view(String name) {
    return views.get(key(name));
  }

  public Iterable<CqlSourceTable> sources() {
    return sources.values();
  }

  public Iterable<View> views() {
    return views.values();
  }
}
