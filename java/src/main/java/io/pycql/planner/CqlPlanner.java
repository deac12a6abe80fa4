package io.pycql.planner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.ddl.CqlColumnDef;
import io.pycql.planner.ddl.SqlCqlHeartbeat;
import io.pycql.planner.ddl.SqlCqlTerminate;
import io.pycql.planner.ddl.SqlCreateCqlAs;
import io.pycql.planner.ddl.SqlCreateCqlSource;
import io.pycql.planner.ddl.SqlCreateCqlView;
import io.pycql.planner.ddl.SqlDropCqlObject;
import io.pycql.planner.ddl.SqlShowCql;
import io.pycql.planner.json.PlanJsonWriter;
import io.pycql.planner.json.PlanTextWriter;
import io.pycql.planner.json.RexJson;
import io.pycql.planner.optimize.CqlOptimizer;
import io.pycql.planner.validate.CqlAnalyzer;
import io.pycql.planner.validate.CqlCatalog;
import io.pycql.planner.validate.Errors;
import io.pycql.planner.validate.ExpressionDepth;
import io.pycql.planner.validate.Types;
import io.pycql.planner.parser.SqlCqlExplainAnalyze;
import io.pycql.planner.parser.SqlCqlExplainAnalyzeQueryId;
import io.pycql.planner.parser.SqlCqlRelToStream;
import org.apache.calcite.sql.SqlOrderBy;
import org.apache.calcite.util.ImmutableBitSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.calcite.plan.RelOptPredicateList;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.logical.LogicalFilter;
import org.apache.calcite.rel.logical.LogicalProject;
import org.apache.calcite.rel.logical.LogicalValues;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeField;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexCall;
import org.apache.calcite.rex.RexDynamicParam;
import org.apache.calcite.rex.RexLiteral;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.rex.RexSimplify;
import org.apache.calcite.rex.RexUtil;
import org.apache.calcite.rex.RexVisitorImpl;
import org.apache.calcite.runtime.CalciteContextException;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlDelete;
import org.apache.calcite.sql.SqlDescribeTable;
import org.apache.calcite.sql.SqlDynamicParam;
import org.apache.calcite.sql.SqlExplain;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlInsert;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlUtil;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.type.SqlTypeName;
import org.apache.calcite.sql.type.SqlTypeUtil;
import org.apache.calcite.sql.validate.SqlValidator;

/**
 * The planner facade the Python side calls (through JPype):
 *
 * <pre>
 *   String envelope = CqlPlanner.analyze(
 *       "SELECT ISTREAM(*) FROM S [RANGE 30 SECONDS] WHERE speed > 65",
 *       catalogJson, "{\"output_topic\": null, \"disabled_rules\": []}");
 * </pre>
 *
 * <p>It answers every statement with one JSON envelope (docs/plan-json.md) and never
 * throws: failures are {@code {"error": {"kind", "message", "line", "column", "end_line",
 * "end_column"}}}.
 */
public final class CqlPlanner {
  static {
    CalciteDefaults.install();  // before any Calcite class initializes: UTF-8 literals
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * The stack of a planner thread. Calcite validates, converts and simplifies expressions
   * recursively, a few frames per level; the caller's thread (a Python thread entering Java
   * through JPype, or a JUnit thread) has a small stack, so every statement is planned on a
   * thread of its own with this much. Only what a statement uses is committed.
   */
  public static final long PLANNER_STACK_BYTES = 512L << 20;

  private static final AtomicInteger PLANNER_THREADS = new AtomicInteger();

  /** Planner threads: one per concurrent caller, kept for a while, daemons. */
  private static final ExecutorService PLANNERS = new ThreadPoolExecutor(0, Integer.MAX_VALUE,
      60L, TimeUnit.SECONDS, new SynchronousQueue<>(), task -> {
        Thread t = new Thread(null, task, "cql-planner-" + PLANNER_THREADS.incrementAndGet(),
            PLANNER_STACK_BYTES);
        t.setDaemon(true);
        return t;
      });

  private CqlPlanner() {
  }

  /** Analyzes one statement; returns its envelope or an error envelope as JSON text. */
  public static String analyze(String sql, String catalogJson, String optionsJson) {
    try {
      return onPlannerThread(() -> {
        try {
          return MAPPER.writeValueAsString(analyzeHere(sql, catalogJson, optionsJson));
        } catch (Throwable t) {
          return MAPPER.writeValueAsString(errorJson(t));
        }
      });
    } catch (Throwable t) {
      try {
        return MAPPER.writeValueAsString(errorJson(t));
      } catch (Throwable t2) {
        return "{\"error\": {\"kind\": \"internal\", \"message\": \"cannot write JSON\"}}";
      }
    }
  }

  /** Same as {@link #analyze} as a Jackson tree. */
  public static ObjectNode analyzeToJson(String sql, String catalogJson, String optionsJson) {
    try {
      return onPlannerThread(() -> analyzeHere(sql, catalogJson, optionsJson));
    } catch (Throwable t) {
      return errorJson(t);
    }
  }

  /** Plans on the calling thread (which must have a large stack: see {@link #analyze}). */
  private static ObjectNode analyzeHere(String sql, String catalogJson, String optionsJson) {
    try {
      return new Statement(sql, CqlCatalog.parse(catalogJson), options(optionsJson)).run();
    } catch (Throwable t) {
      if (DEBUG) {
        t.printStackTrace();  // for pycql's developers: PYCQL_PLANNER_DEBUG=1
      }
      return errorJson(t);
    }
  }

  /**
   * Runs {@code task} on a planner thread with a {@link #PLANNER_STACK_BYTES} stack and the
   * caller's context class loader (JPype gives a Python thread the planner's loader; Calcite
   * loads classes and service files through it), and waits for it.
   */
  static <T> T onPlannerThread(Callable<T> task) throws Exception {
    Thread caller = Thread.currentThread();
    if (caller.getName().startsWith("cql-planner-")) {
      return task.call();
    }
    ClassLoader loader = caller.getContextClassLoader() != null
        ? caller.getContextClassLoader() : CqlPlanner.class.getClassLoader();
    Future<T> future = PLANNERS.submit(() -> {
      Thread me = Thread.currentThread();
      ClassLoader saved = me.getContextClassLoader();
      me.setContextClassLoader(loader);
      try {
        return task.call();
      } finally {
        me.setContextClassLoader(saved);
      }
    });
    try {
      return future.get();
    } catch (InterruptedException e) {
      future.cancel(true);
      caller.interrupt();
      throw new IllegalStateException("planning was interrupted");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof Exception) {
        throw (Exception) cause;
      }
      throw new IllegalStateException(cause.toString(), cause);
    }
  }

  /** Print the Java stack trace of every failure to stderr (set PYCQL_PLANNER_DEBUG=1). */
  private static final boolean DEBUG = System.getenv("PYCQL_PLANNER_DEBUG") != null;

  // ------------------------------------------------------------------ errors

  static ObjectNode errorJson(Throwable t) {
    String kind;
    String message;
    SqlParserPos pos = null;
    if (causedByStackOverflow(t)) {
      kind = "validate";
      message = "expression is too deep: the statement nests too deeply to plan"
          + " (an expression has at most " + ExpressionDepth.MAX_LEVELS + " levels)";
    } else if (t instanceof CqlPlannerError) {
      CqlPlannerError e = (CqlPlannerError) t;
      kind = e.kind.name().toLowerCase(Locale.ROOT);
      message = e.getMessage();
      pos = e.pos;
    } else if (t instanceof SqlParseException) {
      SqlParseException e = (SqlParseException) t;
      kind = "parse";
      message = Errors.firstLine(e.getMessage());
      java.util.Collection<String> expected = e.getExpectedTokenNames();
      if (!(e.getCause() instanceof io.pycql.planner.parser.impl.ParseException)) {
        expected = List.of();
      }
      if (message.startsWith("Non-query expression encountered in illegal context")) {
        message = "Not a statement: expected a query (SELECT, ISTREAM(...), RSTREAM(...), "
            + "DSTREAM(...), VALUES) or CREATE, DROP, INSERT, UPSERT, DELETE, SHOW, DESCRIBE, EXPLAIN";
      }
      if (!expected.isEmpty() && expected.size() <= 8) {
        message += "; expected " + String.join(", ", new java.util.TreeSet<>(expected));
      }
      pos = e.getPos();
    } else if (t instanceof CalciteContextException) {
      CalciteContextException e = (CalciteContextException) t;
      kind = "validate";
      message = Errors.contextMessage(e);
      if (e.getPosLine() > 0) {
        pos = new SqlParserPos(e.getPosLine(), e.getPosColumn(), e.getEndPosLine(),
            e.getEndPosColumn());
      }
    } else if (t instanceof UnsupportedOperationException) {
      kind = "unsupported";
      message = Errors.stripClassNames(String.valueOf(t.getMessage()));
    } else {
      kind = "internal";
      message = Errors.stripClassNames(t.getMessage() == null ? t.toString() : t.getMessage());
    }
    ObjectNode err = MAPPER.createObjectNode();
    err.put("kind", kind);
    err.put("message", message);
    if (pos != null && pos.getLineNum() > 0) {
      err.put("line", pos.getLineNum());
      err.put("column", pos.getColumnNum());
      err.put("end_line", pos.getEndLineNum());
      err.put("end_column", pos.getEndColumnNum());
    } else {
      err.putNull("line");
      err.putNull("column");
      err.putNull("end_line");
      err.putNull("end_column");
    }
    ObjectNode root = MAPPER.createObjectNode();
    root.set("error", err);
    return root;
  }

  private static boolean causedByStackOverflow(Throwable t) {
    int hops = 0;
    for (Throwable c = t; c != null && hops < 50; c = c.getCause(), hops++) {
      if (c instanceof StackOverflowError) {
        return true;
      }
    }
    return false;
  }

  /**
   * True when {@code sql} holds no statement: only white space, comments ({@code -- ...},
   * {@code /* ... *\/}) and semicolons.
   */
  static boolean isBlank(String sql) {
    int i = 0;
    int n = sql.length();
    while (i < n) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c) || c == ';') {
        i++;
      } else if (sql.startsWith("--", i)) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? n : end + 1;
      } else if (sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        if (end < 0) {
          return false;  // the parser reports the unterminated comment
        }
        i = end + 2;
      } else {
        return false;
      }
    }
    return true;
  }

  // ----------------------------------------------------------------- options

  private static final class Options {
    String outputTopic;
    Set<String> disabledRules = new HashSet<>();
  }

  private static Options options(String json) throws Exception {
    Options o = new Options();
    if (json == null || json.isBlank()) {
      return o;
    }
    JsonNode n = MAPPER.readTree(json);
    JsonNode topic = n.get("output_topic");
    o.outputTopic = topic == null || topic.isNull() ? null : topic.asText();
    for (JsonNode r : n.path("disabled_rules")) {
      o.disabledRules.add(r.asText());
    }
    return o;
  }

  // --------------------------------------------------------------- statements

  /** One statement over one catalog. */
  private static final class Statement {
    final String sql;
    final CqlCatalog catalog;
    final Options options;
    final CqlAnalyzer analyzer;

    Statement(String sql, CqlCatalog catalog, Options options) {
      this.sql = sql;
      this.catalog = catalog;
      this.options = options;
      this.analyzer = new CqlAnalyzer(catalog);
    }

    ObjectNode run() throws SqlParseException {
      if (sql == null || isBlank(sql)) {
        throw CqlPlannerError.validate(null, "empty statement: nothing to execute");
      }
      SqlNode node = CqlAnalyzer.parse(sql);
      ExpressionDepth.check(node);
      ObjectNode out = dispatch(node);
      ExpressionDepth.checkJson(out, node);
      return out;
    }

    private ObjectNode dispatch(SqlNode node) {
      ObjectNode out = MAPPER.createObjectNode();
      if (node instanceof SqlCqlHeartbeat) {
        return heartbeat((SqlCqlHeartbeat) node, out);
      }
      if (node instanceof SqlCreateCqlSource) {
        return createSource((SqlCreateCqlSource) node, out);
      }
      if (node instanceof SqlCreateCqlView) {
        return createView((SqlCreateCqlView) node, out);
      }
      if (node instanceof SqlCreateCqlAs) {
        return createAs((SqlCreateCqlAs) node, out);
      }
      if (node instanceof SqlCqlTerminate) {
        String id = ((SqlCqlTerminate) node).queryId;
        out.put("statement", "terminate");
        if (id == null) {
          out.put("all", true);
          out.putNull("query_id");
        } else {
          out.put("query_id", id);
        }
        return out;
      }
      if (node instanceof SqlCqlExplainAnalyzeQueryId) {
        out.put("statement", "explain");
        out.put("analyze", true);
        out.put("query_id", ((SqlCqlExplainAnalyzeQueryId) node).queryId);
        out.put("format", "text");
        return out;
      }
      if (node instanceof SqlDropCqlObject) {
        SqlDropCqlObject d = (SqlDropCqlObject) node;
        out.put("statement", "drop");
        out.put("object", d.object);
        out.put("name", simpleName(d.name));
        out.put("if_exists", d.ifExists);
        return out;
      }
      if (node instanceof SqlShowCql) {
        out.put("statement", "show");
        out.put("what", ((SqlShowCql) node).what);
        return out;
      }
      if (node instanceof SqlDescribeTable) {
        SqlDescribeTable d = (SqlDescribeTable) node;
        if (d.getColumn() != null) {
          throw CqlPlannerError.unsupported(d.getColumn().getParserPosition(),
              "DESCRIBE of a single column is not supported");
        }
        out.put("statement", "describe");
        out.put("name", simpleName(d.getTable()));
        return out;
      }
      if (node instanceof SqlExplain) {
        return explain((SqlExplain) node, out);
      }
      if (node instanceof SqlInsert) {
        return insert((SqlInsert) node, out);
      }
      if (node instanceof SqlDelete) {
        return delete((SqlDelete) node, out);
      }
      if (node.getKind() == SqlKind.UPDATE || node.getKind() == SqlKind.MERGE
          || node.getKind().belongsTo(SqlKind.DDL) || node.getKind() == SqlKind.SET_OPTION
          || node.getKind() == SqlKind.PROCEDURE_CALL || node.getKind() == SqlKind.DESCRIBE_SCHEMA) {
        throw CqlPlannerError.unsupported(node.getParserPosition(),
            node.getKind().lowerName.replace('_', ' ').toUpperCase(Locale.ROOT)
            + " is not supported");
      }
      out.put("statement", "query");
      out.set("plan", plan(node, null));
      return out;
    }

    private ObjectNode plan(SqlNode query, RelNode[] physicalOut) {
      return plan(analyzer.analyzeQuery(query, null, null), sql, physicalOut);
    }

    private ObjectNode plan(CqlAnalyzer.Analyzed a, String planSql, RelNode[] physicalOut) {
      RelNode physical = CqlOptimizer.optimize(a.rel, options.disabledRules);
      if (physicalOut != null) {
        physicalOut[0] = physical;
      }
      return PlanJsonWriter.write(physical, planSql, options.outputTopic, a.params, a.stream);
    }

    /** The text of {@code query} as written, from its first character to the end. */
    private String queryText(SqlNode query) {
      SqlParserPos pos = span(query);
      return sql.substring(offset(pos.getLineNum(), pos.getColumnNum())).strip()
          .replaceAll(";\\s*$", "");
    }

    /**
     * The span of a query's text: from its first node to its last. A query's own position is
     * not always where it starts: {@code SELECT ... ORDER BY k} is at {@code k}.
     */
    private SqlParserPos span(SqlNode query) {
      List<SqlParserPos> all = new ArrayList<>();
      all.add(query.getParserPosition());
      query.accept(new org.apache.calcite.sql.util.SqlBasicVisitor<Void>() {
        @Override public Void visit(SqlCall call) {
          all.add(call.getParserPosition());
          return super.visit(call);
        }

        @Override public Void visit(SqlNodeList list) {
          all.add(list.getParserPosition());
          return super.visit(list);
        }

        @Override public Void visit(SqlIdentifier id) {
          all.add(id.getParserPosition());
          return null;
        }

        @Override public Void visit(org.apache.calcite.sql.SqlLiteral literal) {
          all.add(literal.getParserPosition());
          return null;
        }

        @Override public Void visit(SqlDynamicParam param) {
          all.add(param.getParserPosition());
          return null;
        }
      });
      all.removeIf(p -> p == null || p.getLineNum() <= 0);
      return all.isEmpty() ? query.getParserPosition() : SqlParserPos.sum(all);
    }

    static final String STREAM_QUERY_KINDS =
        "(ISTREAM, DSTREAM, RSTREAM, or a query over streams without a window)";

    /**
     * CREATE STREAM | TABLE name [WITH (...)] AS query: a persistent query writing its result
     * to a new stream (a stream-valued query) or table (a relation-valued one).
     */
    private ObjectNode createAs(SqlCreateCqlAs c, ObjectNode out) {
      String name = simpleName(c.name);
      String existing = catalog.source(name) != null ? catalog.source(name).name()
          : catalog.view(name) != null ? catalog.view(name).name : null;
      if (existing != null && !c.ifNotExists) {
        throw CqlPlannerError.validate(c.name.getParserPosition(),
            "Stream or table '" + existing + "' already exists");
      }
      SqlParserPos queryPos = span(c.query);
      String querySql = queryText(c.query);
      CqlAnalyzer.Analyzed a = analyzer.analyzeQuery(c.query, null, null);
      if (c.stream && !a.stream) {
        throw CqlPlannerError.validate(queryPos, "CREATE STREAM ... AS needs a stream-valued "
            + "query " + STREAM_QUERY_KINDS + "; use CREATE TABLE ... AS for a relation");
      }
      if (!c.stream && a.stream) {
        throw CqlPlannerError.validate(queryPos, "CREATE TABLE ... AS needs a relation-valued "
            + "query; use CREATE STREAM ... AS for a stream");
      }
      checkDistinctColumns(c.query, a.rel.getRowType(), queryPos);
      List<Integer> key = c.stream ? null : uniqueKey(a.rel);
      RelNode[] physical = new RelNode[1];
      ObjectNode plan = plan(a, querySql, physical);
      out.put("statement", c.stream ? "create_stream_as" : "create_table_as");
      out.put("name", name);
      ObjectNode opts = out.putObject("options");
      for (Map.Entry<String, String> e : c.options.entrySet()) {
        opts.put(e.getKey(), e.getValue());
      }
      out.put("if_not_exists", c.ifNotExists);
      out.put("query", querySql);
      out.set("plan", plan);
      out.put("text", PlanTextWriter.explain(physical[0], options.outputTopic));
      JsonNode columns = plan.path("result").path("columns");
      out.set("columns", columns.deepCopy());
      if (key == null) {
        out.putNull("key");
      } else {
        ArrayNode k = out.putArray("key");
        for (int i : key) {
          k.add(columns.get(i).path("name").asText());
        }
      }
      return out;
    }

    /**
     * The result columns of a persistent query's query must have names distinct ignoring
     * case (they become the columns of a stream or table). Calcite's validator makes the
     * names of a select list unique by appending digits ({@code SELECT k, v AS K} gives k and
     * K0); the names as the user wrote them (or as a {@code *} expands) are recovered from
     * the validated select list of the query's top SELECT.
     */
    private void checkDistinctColumns(SqlNode query, RelDataType rowType, SqlParserPos pos) {
      List<String> names = new ArrayList<>();
      for (RelDataTypeField f : rowType.getFieldList()) {
        names.add(f.getName());
      }
      SqlSelect select = topSelect(query);
      if (select != null && select.getSelectList() != null
          && select.getSelectList().size() == names.size()) {
        for (int i = 0; i < names.size(); i++) {
          String natural = naturalName(select.getSelectList().get(i));
          if (natural != null) {
            names.set(i, natural);
          }
        }
      }
      Set<String> seen = new HashSet<>();
      for (String n : names) {
        if (!seen.add(n.toUpperCase(Locale.ROOT))) {
          throw CqlPlannerError.validate(pos, "The query has two columns named '" + n
              + "' (column names must differ ignoring case): give one of them another name"
              + " with AS");
        }
      }
    }

    /** The SELECT whose select list names a query's columns, or null. */
    private SqlSelect topSelect(SqlNode q) {
      for (int hops = 0; q != null && hops < 100; hops++) {
        if (q instanceof SqlSelect) {
          return (SqlSelect) q;
        } else if (q instanceof SqlCqlRelToStream) {
          q = ((SqlCqlRelToStream) q).query;
        } else if (q instanceof SqlOrderBy) {
          q = ((SqlOrderBy) q).query;
        } else if (q instanceof org.apache.calcite.sql.SqlWith) {
          q = ((org.apache.calcite.sql.SqlWith) q).body;
        } else if (q instanceof SqlBasicCall && ((SqlBasicCall) q).operandCount() >= 1
            && (q.getKind().belongsTo(SqlKind.SET_QUERY)
                || ((SqlBasicCall) q).operand(0).getKind().belongsTo(SqlKind.QUERY))) {
          q = ((SqlBasicCall) q).operand(0);  // ISTREAM(query); UNION: the first branch
        } else {
          return null;
        }
      }
      return null;
    }

    /**
     * The name of a validated select item before the validator made it unique: the AS the
     * validator added (at the position of the expression itself) is looked through.
     */
    private String naturalName(SqlNode item) {
      if (item.getKind() == SqlKind.AS) {
        SqlNode inner = ((SqlCall) item).operand(0);
        boolean generated = item.getParserPosition().equals(inner.getParserPosition());
        if (generated) {
          if (inner.getKind() == SqlKind.AS) {
            return ((SqlIdentifier) ((SqlCall) inner).operand(1)).getSimple();
          }
          if (inner instanceof SqlIdentifier && !((SqlIdentifier) inner).isStar()) {
            return simpleName((SqlIdentifier) inner);
          }
          return null;
        }
        return ((SqlIdentifier) ((SqlCall) item).operand(1)).getSimple();
      }
      if (item instanceof SqlIdentifier && !((SqlIdentifier) item).isStar()) {
        return simpleName((SqlIdentifier) item);
      }
      return null;
    }

    /**
     * The smallest non-empty unique key of a logical relation (ties: the lowest column
     * indexes), as ascending column indexes; null when there is none, when only the empty key
     * exists (a single-row relation) or when Calcite's metadata cannot tell.
     */
    private List<Integer> uniqueKey(RelNode rel) {
      Set<ImmutableBitSet> keys;
      try {
        keys = rel.getCluster().getMetadataQuery().getUniqueKeys(rel);
      } catch (RuntimeException | StackOverflowError e) {
        return null;
      }
      if (keys == null) {
        return null;
      }
      ImmutableBitSet best = null;
      for (ImmutableBitSet k : keys) {
        if (k.isEmpty()) {
          continue;
        }
        if (best == null || k.cardinality() < best.cardinality()
            || (k.cardinality() == best.cardinality() && k.compareTo(best) < 0)) {
          best = k;
        }
      }
      return best == null ? null : best.asList();
    }

    private ObjectNode explain(SqlExplain explain, ObjectNode out) {
      SqlNode q = explain.getExplicandum();
      if (q instanceof SqlInsert || q instanceof SqlDelete
          || q.getKind() == SqlKind.UPDATE || q.getKind() == SqlKind.MERGE) {
        throw CqlPlannerError.unsupported(q.getParserPosition(),
            "EXPLAIN applies to queries only");
      }
      RelNode[] physical = new RelNode[1];
      ObjectNode plan = plan(q, physical);
      out.put("statement", "explain");
      out.put("format", explain.getFormat().name().toLowerCase(Locale.ROOT));
      out.put("analyze", explain instanceof SqlCqlExplainAnalyze);
      out.putNull("query_id");
      out.put("text", PlanTextWriter.explain(physical[0], options.outputTopic));
      out.set("plan", plan);
      return out;
    }

    private ObjectNode createSource(SqlCreateCqlSource c, ObjectNode out) {
      out.put("statement", c.stream ? "create_stream" : "create_table");
      out.put("name", simpleName(c.name));
      SqlValidator validator = analyzer.newValidator();
      ArrayNode cols = out.putArray("columns");
      Set<String> seen = new HashSet<>();
      List<String> names = new ArrayList<>();
      for (CqlColumnDef col : c.columns) {
        String name = col.name.getSimple();
        if (!seen.add(name.toUpperCase(Locale.ROOT))) {
          throw CqlPlannerError.validate(col.name.getParserPosition(),
              "Duplicate column '" + name + "'");
        }
        names.add(name);
        RelDataType type = col.interval != null
            ? analyzer.typeFactory().createSqlIntervalType(col.interval)
            : col.type.deriveType(validator);
        type = analyzer.typeFactory().createTypeWithNullability(type, col.nullable);
        ObjectNode cj = MAPPER.valueToTree(Types.column(name, type));
        if (!cj.has("precision")) {
          cj.putNull("precision");
        }
        if (!cj.has("scale")) {
          cj.putNull("scale");
        }
        cols.add(cj);
      }
      if (!c.stream) {
        ArrayNode pk = out.putArray("primary_key");
        for (SqlNode k : c.primaryKey) {
          SqlIdentifier id = (SqlIdentifier) k;
          String found = null;
          for (String n : names) {
            if (n.equalsIgnoreCase(id.getSimple())) {
              found = n;
            }
          }
          if (found == null) {
            throw CqlPlannerError.validate(id.getParserPosition(),
                "PRIMARY KEY column '" + id.getSimple() + "' is not a column of the table");
          }
          pk.add(found);
        }
      }
      ObjectNode opts = out.putObject("options");
      for (Map.Entry<String, String> e : c.options.entrySet()) {
        opts.put(e.getKey(), e.getValue());
      }
      out.put("if_not_exists", c.ifNotExists);
      return out;
    }

    private ObjectNode createView(SqlCreateCqlView v, ObjectNode out) {
      String viewSql = queryText(v.query);
      List<String> names = null;
      if (v.columnNames != null) {
        names = new ArrayList<>();
        for (SqlNode n : v.columnNames) {
          names.add(((SqlIdentifier) n).getSimple());
        }
      }
      CqlAnalyzer.ViewInfo info = analyzer.describeView(v.query, names,
          v.columnNames == null ? v.name.getParserPosition() : v.columnNames.getParserPosition());
      out.put("statement", "create_view");
      out.put("name", simpleName(v.name));
      out.put("query", viewSql);
      ArrayNode cols = out.putArray("columns");
      for (RelDataTypeField f : info.rowType.getFieldList()) {
        cols.add(MAPPER.<JsonNode>valueToTree(Types.column(f.getName(), f.getType())));
      }
      out.put("kind", info.stream ? "stream" : "relation");
      out.put("or_replace", v.getReplace());
      return out;
    }

    /** The character offset of a 1-based (line, column) in the statement text. */
    private int offset(int line, int column) {
      int off = 0;
      for (int l = 1; l < line; l++) {
        off = sql.indexOf('\n', off) + 1;
      }
      return Math.min(sql.length(), off + column - 1);
    }

    private CqlSourceTable target(SqlIdentifier id, String verb) {
      String name = simpleName(id);
      CqlSourceTable t = catalog.source(name);
      if (t == null) {
        if (catalog.view(name) != null) {
          throw CqlPlannerError.validate(id.getParserPosition(),
              verb + " into view '" + name + "' is not supported: views are read-only");
        }
        throw CqlPlannerError.validate(id.getParserPosition(),
            "Unknown stream or table '" + name + "'");
      }
      return t;
    }

    /**
     * INSERT/UPSERT ... VALUES. A stream takes the pseudo column ROWTIME in its column list
     * (unless it has a column of that name): the event time of each row, a TIMESTAMP or BIGINT
     * epoch milliseconds, written to the envelope's {@code timestamps}, one per row.
     */
    private ObjectNode insert(SqlInsert insert, ObjectNode out) {
      if (!(insert.getTargetTable() instanceof SqlIdentifier)) {
        throw CqlPlannerError.unsupported(insert.getTargetTable().getParserPosition(),
            "INSERT target must be a stream or table name");
      }
      SqlIdentifier targetId = (SqlIdentifier) insert.getTargetTable();
      CqlSourceTable target = target(targetId, "INSERT");
      if (insert.getSource().getKind() != SqlKind.VALUES) {
        return insertQuery(insert, targetId, target, out);
      }
      RelDataType rowType = target.getRowType(analyzer.typeFactory());
      List<RelDataTypeField> fields = new ArrayList<>();
      int rowtimeAt = -1;
      if (insert.getTargetColumnList() == null) {
        fields.addAll(rowType.getFieldList());
      } else {
        Set<Integer> seen = new HashSet<>();
        SqlIdentifier timestampColumnGiven = null;
        SqlIdentifier rowtime = null;
        for (SqlNode n : insert.getTargetColumnList()) {
          SqlIdentifier col = (SqlIdentifier) n;
          RelDataTypeField f = rowType.getField(col.getSimple(), false, false);
          if (f == null && col.getSimple().equalsIgnoreCase(ROWTIME)) {
            if (!target.isStream()) {
              throw CqlPlannerError.validate(col.getParserPosition(), "ROWTIME is the event "
                  + "time of a stream's elements; '" + target.name() + "' is a table");
            }
            if (rowtime != null) {
              throw CqlPlannerError.validate(col.getParserPosition(),
                  "Target column 'ROWTIME' is given twice");
            }
            rowtime = col;
            rowtimeAt = fields.size();
            continue;
          }
          if (f == null) {
            throw CqlPlannerError.validate(col.getParserPosition(), "Unknown target column '"
                + col.getSimple() + "' of " + (target.isStream() ? "stream" : "table")
                + " '" + target.name() + "'");
          }
          if (!seen.add(f.getIndex())) {
            throw CqlPlannerError.validate(col.getParserPosition(),
                "Target column '" + f.getName() + "' is given twice");
          }
          if (f.getName().equals(target.timestampColumn())) {
            timestampColumnGiven = col;
          }
          fields.add(f);
        }
        if (rowtime != null && timestampColumnGiven != null) {
          throw CqlPlannerError.validate(rowtime.getParserPosition(), "ROWTIME of stream '"
              + target.name() + "' is its timestamp column '" + target.timestampColumn()
              + "': give one of them, not both");
        }
        for (RelDataTypeField f : rowType.getFieldList()) {
          if (!seen.contains(f.getIndex()) && !f.getType().isNullable()
              && !(rowtime != null && f.getName().equals(target.timestampColumn()))) {
            throw CqlPlannerError.validate(insert.getTargetColumnList().getParserPosition(),
                "Column '" + f.getName() + "' has no default value and does not allow NULLs");
          }
        }
      }
      SqlNode source = insert.getSource();
      int width = fields.size() + (rowtimeAt >= 0 ? 1 : 0);
      ArrayNode rows = MAPPER.createArrayNode();
      ArrayNode timestamps = MAPPER.createArrayNode();
      for (SqlNode rowNode : ((SqlBasicCall) source).getOperandList()) {
        List<SqlNode> values = new ArrayList<>(rowNode.getKind() == SqlKind.ROW
            ? ((SqlBasicCall) rowNode).getOperandList() : List.of(rowNode));
        if (values.size() != width) {
          throw CqlPlannerError.validate(rowNode.getParserPosition(), "Row has "
              + values.size() + " values but " + width + " target columns");
        }
        if (rowtimeAt >= 0) {
          timestamps.add(eventTime(values.remove(rowtimeAt), "ROWTIME"));
        }
        rows.add(rowExpressions(values, fields));
      }
      out.put("statement", "insert");
      out.put("target", target.name());
      ArrayNode cols = out.putArray("columns");
      for (RelDataTypeField f : fields) {
        cols.add(f.getName());
      }
      out.set("rows", rows);
      out.put("upsert", insert.isUpsert());
      if (rowtimeAt >= 0) {
        out.set("timestamps", timestamps);
      } else {
        out.putNull("timestamps");
      }
      return out;
    }

    /**
     * INSERT INTO stream query: a persistent query appending the query's stream to an
     * existing stream of the same width, column types assignable.
     */
    private ObjectNode insertQuery(SqlInsert insert, SqlIdentifier targetId,
        CqlSourceTable target, ObjectNode out) {
      SqlNode query = insert.getSource();
      SqlParserPos queryPos = span(query);
      if (insert.isUpsert()) {
        throw CqlPlannerError.unsupported(queryPos,
            "UPSERT from a query is not supported: UPSERT takes VALUES (...)");
      }
      if (!target.isStream()) {
        throw CqlPlannerError.unsupported(targetId.getParserPosition(),
            "INSERT INTO a table from a query is not supported: use CREATE TABLE ... AS");
      }
      if (insert.getTargetColumnList() != null) {
        throw CqlPlannerError.unsupported(insert.getTargetColumnList().getParserPosition(),
            "A target column list is not supported in INSERT from a query: the query gives"
            + " every column of the stream, in order");
      }
      String querySql = queryText(query);
      CqlAnalyzer.Analyzed a = analyzer.analyzeQuery(query, null, null);
      if (!a.stream) {
        throw CqlPlannerError.validate(queryPos, "INSERT INTO a stream needs a stream-valued "
            + "query " + STREAM_QUERY_KINDS + "; this query is a relation");
      }
      List<RelDataTypeField> targetFields =
          target.getRowType(analyzer.typeFactory()).getFieldList();
      List<RelDataTypeField> queryFields = a.rel.getRowType().getFieldList();
      if (queryFields.size() != targetFields.size()) {
        throw CqlPlannerError.validate(queryPos, "The query has " + queryFields.size()
            + " columns but stream '" + target.name() + "' has " + targetFields.size());
      }
      List<SqlNode> items = selectItems(query, queryFields.size());
      for (int i = 0; i < queryFields.size(); i++) {
        RelDataType from = queryFields.get(i).getType();
        RelDataType to = targetFields.get(i).getType();
        if (!SqlTypeUtil.canAssignFrom(to, from)) {
          throw CqlPlannerError.validate(items == null ? queryPos
              : items.get(i).getParserPosition(), "Column " + (i + 1) + " ("
              + queryFields.get(i).getName() + ") of the query is "
              + from.getSqlTypeName().getName() + " but column " + targetFields.get(i).getName()
              + " of stream " + target.name() + " is " + to.getSqlTypeName().getName());
        }
      }
      RelNode[] physical = new RelNode[1];
      ObjectNode plan = plan(a, querySql, physical);
      out.put("statement", "insert_query");
      out.put("target", target.name());
      out.put("query", querySql);
      out.set("plan", plan);
      out.put("text", PlanTextWriter.explain(physical[0], options.outputTopic));
      out.set("columns", plan.path("result").path("columns").deepCopy());
      return out;
    }

    /**
     * The select items of a plain SELECT (under ISTREAM(...) or ORDER BY) with {@code width}
     * items and no {@code *}, or null.
     */
    private List<SqlNode> selectItems(SqlNode query, int width) {
      SqlNode q = query;
      if (q instanceof SqlCqlRelToStream) {
        q = ((SqlCqlRelToStream) q).query;
      } else if (q instanceof SqlBasicCall && ((SqlBasicCall) q).operandCount() == 1
          && ((SqlBasicCall) q).operand(0).getKind().belongsTo(SqlKind.QUERY)
          && !(q instanceof SqlSelect)) {
        q = ((SqlBasicCall) q).operand(0);
      }
      if (q instanceof SqlOrderBy) {
        q = ((SqlOrderBy) q).query;
      }
      if (!(q instanceof SqlSelect) || ((SqlSelect) q).getSelectList() == null) {
        return null;
      }
      SqlNodeList list = ((SqlSelect) q).getSelectList();
      if (list.size() != width) {
        return null;
      }
      for (SqlNode item : list) {
        if (item instanceof SqlIdentifier && ((SqlIdentifier) item).isStar()) {
          return null;
        }
        if (item == null || item.getParserPosition().getLineNum() <= 0) {
          return null;
        }
      }
      return list.getList();
    }

    /**
     * An event time given by the user (ROWTIME of INSERT, HEARTBEAT): a TIMESTAMP or an
     * integer (epoch milliseconds), or {@code ?}, which is a TIMESTAMP parameter. The JSON
     * expression has type TIMESTAMP or BIGINT; both are epoch milliseconds in the engine.
     * A constant comes out as a literal.
     */
    private JsonNode eventTime(SqlNode value, String what) {
      SqlParserPos pos = value.getParserPosition();
      SqlNode item = value;
      if (value instanceof SqlDynamicParam || SqlUtil.isNullLiteral(value, false)) {
        item = SqlStdOperatorTable.CAST.createCall(pos, value,
            SqlTypeUtil.convertTypeToSpec(analyzer.typeFactory().createSqlType(
                SqlTypeName.TIMESTAMP, 3)));
      }
      SqlNodeList items = new SqlNodeList(List.of(SqlStdOperatorTable.AS.createCall(pos, item,
          new SqlIdentifier("T", SqlParserPos.ZERO))), SqlParserPos.ZERO);
      SqlSelect select = new SqlSelect(SqlParserPos.ZERO, null, items, null, null, null, null,
          null, null, null, null, null, null);
      RexNode e = singleRow(analyzer.analyzeQuery(select, null, null).rel).get(0);
      RexBuilder rex = analyzer.cluster().getRexBuilder();
      SqlTypeName type = e.getType().getSqlTypeName();
      if (SqlTypeName.INT_TYPES.contains(type)) {
        if (type != SqlTypeName.BIGINT) {
          e = rex.makeCast(analyzer.typeFactory().createTypeWithNullability(
              analyzer.typeFactory().createSqlType(SqlTypeName.BIGINT),
              e.getType().isNullable()), e);
        }
      } else if (type != SqlTypeName.TIMESTAMP && type != SqlTypeName.NULL) {
        throw CqlPlannerError.validate(pos, what + " must be a TIMESTAMP or a BIGINT (epoch "
            + "milliseconds), not " + e.getType().getFullTypeString().replace(" NOT NULL", ""));
      }
      e = new RexSimplify(rex, RelOptPredicateList.EMPTY, RexUtil.EXECUTOR)
          .simplifyPreservingType(e);
      if (RexUtil.isConstant(e) && !(e instanceof RexLiteral) && !hasParam(e)) {
        List<RexNode> reduced = new ArrayList<>();
        RexUtil.EXECUTOR.reduce(rex, List.of(e), reduced);
        e = reduced.get(0);
      }
      if (e.getKind() == SqlKind.CAST) {
        RexNode operand = ((RexCall) e).getOperands().get(0);
        if (operand instanceof RexDynamicParam
            && operand.getType().getSqlTypeName() == e.getType().getSqlTypeName()) {
          e = operand;  // ? is a TIMESTAMP parameter already
        }
      }
      return RexJson.toJson(e);
    }

    /**
     * Each value as CAST(value AS column type), validated and converted to expressions. A
     * string is not cast to a number here either (it would fail when the row is written):
     * "Cannot assign a VARCHAR value to column 'A' of type INTEGER".
     */
    private ArrayNode rowExpressions(List<SqlNode> values, List<RelDataTypeField> fields) {
      // Calcite's validator checks literal ranges in queries, but a literal under the
      // CAST to a column type is folded first and fails without a position.
      int maxPrecision = analyzer.typeFactory().getTypeSystem().getMaxNumericPrecision();
      for (SqlNode v : values) {
        v.accept(new org.apache.calcite.sql.util.SqlBasicVisitor<Void>() {
          @Override public Void visit(org.apache.calcite.sql.SqlLiteral literal) {
            if (literal instanceof org.apache.calcite.sql.SqlNumericLiteral) {
              org.apache.calcite.sql.SqlNumericLiteral n =
                  (org.apache.calcite.sql.SqlNumericLiteral) literal;
              Integer prec = n.getPrec();
              if (n.isExact() && prec != null && prec > maxPrecision) {
                throw CqlPlannerError.validate(literal.getParserPosition(),
                    "Numeric literal '" + literal.toValue() + "' out of range");
              }
            }
            return null;
          }
        });
      }
      SqlNodeList items = new SqlNodeList(SqlParserPos.ZERO);
      List<SqlCall> casts = new ArrayList<>();
      for (int i = 0; i < values.size(); i++) {
        SqlNode v = values.get(i);
        RelDataType t = fields.get(i).getType();
        SqlCall cast = SqlStdOperatorTable.CAST.createCall(v.getParserPosition(), v,
            SqlTypeUtil.convertTypeToSpec(t));
        casts.add(cast);
        items.add(SqlStdOperatorTable.AS.createCall(v.getParserPosition(), cast,
            new SqlIdentifier("C" + i, SqlParserPos.ZERO)));
      }
      SqlSelect select = new SqlSelect(SqlParserPos.ZERO, null, items, null, null, null, null,
          null, null, null, null, null, null);
      CqlAnalyzer.Analyzed a = analyzer.analyzeQuery(select, null, null);
      for (int i = 0; i < casts.size(); i++) {
        SqlNode v = casts.get(i).operand(0);
        RelDataType from = a.validator.getValidatedNodeTypeIfKnown(v);
        RelDataType to = fields.get(i).getType();
        if (from != null && SqlTypeUtil.isCharacter(from) && SqlTypeUtil.isNumeric(to)) {
          throw CqlPlannerError.validate(values.get(i).getParserPosition(), "Cannot assign a "
              + from.getSqlTypeName().getName() + " value to column '" + fields.get(i).getName()
              + "' of type " + to.getSqlTypeName().getName() + " (CAST it, if the string "
              + "holds a number)");
        }
      }
      ArrayNode row = MAPPER.createArrayNode();
      for (RexNode e : singleRow(a.rel)) {
        row.add(RexJson.toJson(e));
      }
      return row;
    }

    /** True if {@code e} holds a {@code ?} (Calcite counts parameters as constants). */
    private boolean hasParam(RexNode e) {
      boolean[] found = {false};
      e.accept(new RexVisitorImpl<Void>(true) {
        @Override public Void visitDynamicParam(RexDynamicParam param) {
          found[0] = true;
          return null;
        }
      });
      return found[0];
    }

    /** The expressions of a one-row SELECT without FROM, as converted. */
    private List<RexNode> singleRow(RelNode rel) {
      while (!(rel instanceof LogicalProject) && !(rel instanceof LogicalValues)
          && rel.getInputs().size() == 1) {
        rel = rel.getInput(0);
      }
      if (rel instanceof LogicalValues && ((LogicalValues) rel).getTuples().size() == 1) {
        return new ArrayList<>(((LogicalValues) rel).getTuples().get(0));
      }
      if (rel instanceof LogicalProject) {
        return ((LogicalProject) rel).getProjects();
      }
      throw new IllegalStateException("VALUES did not convert to a projection");
    }

    /** ALTER STREAM s HEARTBEAT t: no more elements of s stamped before t. */
    private ObjectNode heartbeat(SqlCqlHeartbeat h, ObjectNode out) {
      String name = simpleName(h.name);
      CqlSourceTable t = catalog.source(name);
      if (t == null) {
        if (catalog.view(name) != null) {
          throw CqlPlannerError.validate(h.name.getParserPosition(), "HEARTBEAT applies to "
              + "streams; '" + catalog.view(name).name + "' is a view");
        }
        throw CqlPlannerError.validate(h.name.getParserPosition(),
            "Unknown stream '" + name + "'");
      }
      if (!t.isStream()) {
        throw CqlPlannerError.validate(h.name.getParserPosition(), "HEARTBEAT applies to "
            + "streams; '" + t.name() + "' is a table");
      }
      out.put("statement", "heartbeat");
      out.put("target", t.name());
      out.set("timestamp", eventTime(h.timestamp, "The HEARTBEAT timestamp"));
      return out;
    }

    private ObjectNode delete(SqlDelete delete, ObjectNode out) {
      SqlIdentifier targetId = (SqlIdentifier) delete.getTargetTable();
      CqlSourceTable target = target(targetId, "DELETE");
      if (target.isStream()) {
        throw CqlPlannerError.validate(targetId.getParserPosition(),
            "DELETE applies to tables only; '" + target.name() + "' is a stream");
      }
      out.put("statement", "delete");
      out.put("target", target.name());
      if (delete.getCondition() == null) {
        out.putNull("condition");
        return out;
      }
      SqlNodeList star = new SqlNodeList(List.of(SqlIdentifier.star(SqlParserPos.ZERO)),
          SqlParserPos.ZERO);
      SqlNode from = delete.getAlias() == null ? targetId
          : SqlStdOperatorTable.AS.createCall(SqlParserPos.ZERO, targetId, delete.getAlias());
      SqlSelect select = new SqlSelect(SqlParserPos.ZERO, null, star, from,
          delete.getCondition(), null, null, null, null, null, null, null, null);
      RelNode rel = analyzer.analyzeQuery(select, null, null).rel;
      while (!(rel instanceof LogicalFilter) && rel.getInputs().size() == 1) {
        rel = rel.getInput(0);
      }
      if (!(rel instanceof LogicalFilter)) {
        throw CqlPlannerError.unsupported(delete.getCondition().getParserPosition(),
            "DELETE condition must be a condition over the table's columns");
      }
      LogicalFilter filter = (LogicalFilter) rel;
      if (filter.getInput().getRowType().getFieldCount()
          != target.getRowType(analyzer.typeFactory()).getFieldCount()) {
        throw CqlPlannerError.unsupported(delete.getCondition().getParserPosition(),
            "DELETE condition must be a condition over the table's columns");
      }
      out.set("condition", RexJson.toJson(filter.getCondition()));
      return out;
    }
  }

  /** The pseudo column of a stream's event time in INSERT (unless it has such a column). */
  static final String ROWTIME = "ROWTIME";

  private static String simpleName(SqlIdentifier id) {
    return id.names.get(id.names.size() - 1);
  }
}
