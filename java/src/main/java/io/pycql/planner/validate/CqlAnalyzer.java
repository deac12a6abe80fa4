package io.pycql.planner.validate;

import io.pycql.planner.CqlPlannerError;
import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.parser.SqlCqlRelToStream;
import io.pycql.planner.parser.SqlCqlWindow;
import io.pycql.planner.parser.impl.CqlParserImpl;
import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.calcite.avatica.util.Casing;
import org.apache.calcite.avatica.util.Quoting;
import org.apache.calcite.config.CalciteConnectionConfigImpl;
import org.apache.calcite.config.CalciteConnectionProperty;
import org.apache.calcite.jdbc.CalciteSchema;
import org.apache.calcite.jdbc.JavaTypeFactoryImpl;
import org.apache.calcite.plan.RelOptCluster;
import org.apache.calcite.plan.RelOptTable;
import org.apache.calcite.plan.hep.HepPlanner;
import org.apache.calcite.plan.hep.HepProgram;
import org.apache.calcite.prepare.CalciteCatalogReader;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.RelRoot;
import org.apache.calcite.rel.core.JoinRelType;
import org.apache.calcite.rel.core.TableScan;
import org.apache.calcite.rel.logical.LogicalFilter;
import org.apache.calcite.rel.logical.LogicalJoin;
import org.apache.calcite.rel.logical.LogicalProject;
import org.apache.calcite.rel.logical.LogicalTableScan;
import org.apache.calcite.rel.logical.LogicalUnion;
import org.apache.calcite.rel.logical.LogicalValues;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeFactory;
import org.apache.calcite.rel.type.RelDataTypeField;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.schema.SchemaPlus;
import org.apache.calcite.schema.TranslatableTable;
import org.apache.calcite.schema.impl.AbstractTable;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlDynamicParam;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlSelectKeyword;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlOrderBy;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlUnresolvedFunction;
import org.apache.calcite.sql.SqlWithItem;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParser;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.util.SqlBasicVisitor;
import org.apache.calcite.sql.validate.SqlValidator;
import org.apache.calcite.sql.validate.SqlValidatorUtil;
import org.apache.calcite.sql2rel.SqlToRelConverter;
import org.apache.calcite.tools.RelBuilder;

/**
 * Parses, validates and converts CQL queries to logical rel trees over one
 * catalog. One instance per statement (it registers a synthetic table per window).
 *
 * <p>Every {@code stream [window]} in FROM/JOIN becomes a reference to a synthetic
 * table whose rel is {@code CqlWindow(scan(stream), spec)}; a stream without a
 * window gets {@code [UNBOUNDED]}. The reference keeps the stream's name (or the
 * user's alias) as its alias, so {@code S.A} still resolves.
 */
public final class CqlAnalyzer {
  /** The parser configuration: CQL grammar, case-insensitive unquoted identifiers. */
  public static SqlParser.Config parserConfig() {
    return SqlParser.config()
        .withParserFactory(CqlParserImpl.FACTORY)
        .withQuoting(Quoting.DOUBLE_QUOTE)
        .withUnquotedCasing(Casing.UNCHANGED)
        .withQuotedCasing(Casing.UNCHANGED)
        .withCaseSensitive(false)
        .withConformance(CqlConformance.INSTANCE);
  }

  /** Parses one CQL statement. */
  public static SqlNode parse(String sql) throws SqlParseException {
    return SqlParser.create(sql, parserConfig()).parseStmt();
  }

  static {
    io.pycql.planner.CalciteDefaults.install();
  }

  /** The outcome of analyzing a query. */
  public static final class Analyzed {
    /** The logical rel tree (with CqlWindow and CqlRelToStream nodes). */
    public final RelNode rel;
    /** True when the query is stream-valued. */
    public final boolean stream;
    /** Dynamic parameters in order: {"index": i, "type": T}. */
    public final List<Map<String, Object>> params;
    /** The validator that validated the query (it knows the type of each of its nodes). */
    public final SqlValidator validator;

    Analyzed(RelNode rel, boolean stream, List<Map<String, Object>> params,
        SqlValidator validator) {
      this.rel = rel;
      this.stream = stream;
      this.params = params;
      this.validator = validator;
    }
  }

  private final CqlCatalog catalog;
  private final JavaTypeFactoryImpl typeFactory = new CqlTypeFactory();
  private final SchemaPlus rootSchema = CalciteSchema.createRootSchema(false, false).plus();
  private final CalciteCatalogReader reader;
  private final RelOptCluster cluster;
  private final Map<String, ViewInfo> viewInfos = new HashMap<>();
  private final Set<String> viewsInProgress = new HashSet<>();
  private int syntheticCount = 0;

  public CqlAnalyzer(CqlCatalog catalog) {
    this.catalog = catalog;
    for (CqlSourceTable s : catalog.sources()) {
      rootSchema.add(s.name(), s);
    }
    for (CqlCatalog.View v : catalog.views()) {
      if (catalog.source(v.name) == null) {
        rootSchema.add(v.name, new ViewTable(v.name));
      }
    }
    Properties props = new Properties();
    props.setProperty(CalciteConnectionProperty.CASE_SENSITIVE.camelName(), "false");
    this.reader = new CalciteCatalogReader(CalciteSchema.from(rootSchema), List.of(),
        typeFactory, new CalciteConnectionConfigImpl(props));
    HepPlanner planner = new HepPlanner(HepProgram.builder().build());
    planner.setExecutor(CqlExecutor.INSTANCE);
    this.cluster = RelOptCluster.create(planner, new RexBuilder(typeFactory));
  }

  public RelDataTypeFactory typeFactory() {
    return typeFactory;
  }

  public CqlCatalog catalog() {
    return catalog;
  }

  /** A validator over this analyzer's catalog. */
  public SqlValidator newValidator() {
    return SqlValidatorUtil.newValidator(CqlOperatorTable.INSTANCE, reader, typeFactory,
        SqlValidator.Config.DEFAULT
            .withConformance(CqlConformance.INSTANCE)
            .withIdentifierExpansion(true)
            .withTypeCoercionFactory(CqlTypeCoercion::new));
  }

  // ---------------------------------------------------------------- queries

  /**
   * Analyzes a query (possibly {@code ISTREAM(...)} or {@code SELECT ISTREAM(*) ...}).
   *
   * @param renames column names replacing the query's own (views), or null
   */
  public Analyzed analyzeQuery(SqlNode query, List<String> renames, SqlParserPos renamePos) {
    if (StreamSetOperation.isStreamSetOperation(query)) {
      Analyzed a = new StreamSetOperation(q -> analyzeQuery(q, null, null), typeFactory,
          cluster.getRexBuilder()).analyze(query);
      return new Analyzed(renamed(a.rel, renames, renamePos), true, a.params, a.validator);
    }
    SqlCqlRelToStream wrapper = normalizeRelToStream(query);
    SqlNode inner = wrapper == null ? query : wrapper.query;
    new WindowRewriter().rewrite(inner);
    checkNoStrayRelToStream(inner);
    checkSupported(inner);
    SqlValidator validator = newValidator();
    SqlNode validated = validator.validate(inner);
    CqlTypeCoercion.checkComparisons(validated, validator);
    List<Map<String, Object>> params = params(validated, validator);
    SqlToRelConverter converter = new SqlToRelConverter(
        (rowType, queryString, schemaPath, viewPath) -> {
          throw new UnsupportedOperationException("view expansion");
        },
        validator, reader, cluster, CqlConvertletTable.INSTANCE,
        SqlToRelConverter.config().withExpand(true).withTrimUnusedFields(true));
    RelRoot root = converter.convertQuery(validated, false, true);
    RelNode rel = converter.decorrelate(validated, root.rel);
    rel = trimUnusedFields(converter, !root.collation.getFieldCollations().isEmpty(), rel);
    rel = root.withRel(rel).project();
    rel = renamed(declaredNames(rel), renames, renamePos);
    if (wrapper != null) {
      return new Analyzed(CqlRelToStream.create(rel, wrapper.kind), true, params, validator);
    }
    if (isMonotonic(rel)) {
      return new Analyzed(CqlRelToStream.create(rel, RelToStreamKind.ISTREAM), true, params,
          validator);
    }
    return new Analyzed(rel, false, params, validator);
  }

  /** {@code rel} with the view's column names, if it declares some. */
  private RelNode renamed(RelNode rel, List<String> renames, SqlParserPos renamePos) {
    if (renames == null || renames.isEmpty()) {
      return rel;
    }
    if (renames.size() != rel.getRowType().getFieldCount()) {
      throw CqlPlannerError.validate(renamePos, "The view declares " + renames.size()
          + " columns but its query has " + rel.getRowType().getFieldCount());
    }
    RelBuilder b = RelBuilder.proto(org.apache.calcite.plan.Contexts.empty())
        .create(cluster, reader);
    return b.push(rel).rename(renames).build();
  }

  /**
   * Output columns keep the declared casing: {@code select b from S} names its column "B"
   * when S declares "B" (the validator would use the text as written).
   */
  private RelNode declaredNames(RelNode rel) {
    List<RelNode> inputs = new ArrayList<>();
    boolean inputsChanged = false;
    for (RelNode in : rel.getInputs()) {
      RelNode fixed = declaredNames(in);
      inputsChanged |= fixed != in;
      inputs.add(fixed);
    }
    if (inputsChanged) {
      rel = rel.copy(rel.getTraitSet(), inputs);
    }
    if (!(rel instanceof LogicalProject)) {
      return rel;
    }
    LogicalProject p = (LogicalProject) rel;
    List<String> names = new ArrayList<>(p.getRowType().getFieldNames());
    boolean changed = false;
    for (int i = 0; i < names.size(); i++) {
      if (p.getProjects().get(i) instanceof org.apache.calcite.rex.RexInputRef) {
        String in = p.getInput().getRowType().getFieldNames()
            .get(((org.apache.calcite.rex.RexInputRef) p.getProjects().get(i)).getIndex());
        if (!in.equals(names.get(i)) && in.equalsIgnoreCase(names.get(i))
            && !names.contains(in)) {
          names.set(i, in);
          changed = true;
        }
      }
    }
    return changed ? LogicalProject.create(p.getInput(), p.getHints(), p.getProjects(), names,
        p.getVariablesSet()) : rel;
  }

  private static List<Map<String, Object>> params(SqlNode validated, SqlValidator validator) {
    TreeMap<Integer, Map<String, Object>> found = new TreeMap<>();
    validated.accept(new SqlBasicVisitor<Void>() {
      @Override public Void visit(SqlDynamicParam param) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("index", param.getIndex());
        RelDataType t = validator.getValidatedNodeTypeIfKnown(param);
        p.put("type", t == null ? "ANY" : Types.typeName(t));
        found.put(param.getIndex(), p);
        return null;
      }
    });
    return new ArrayList<>(found.values());
  }

  /**
   * True when the query is monotonic over its streams (CQL's implicit ISTREAM): it reads at
   * least one stream, every stream through [UNBOUNDED], and uses only select, project,
   * inner joins and UNION ALL of such inputs (and constants). Tables are relations that can
   * change, so a query over a table is not monotonic.
   */
  static boolean isMonotonic(RelNode rel) {
    boolean[] sawStream = {false};
    return monotonic(rel, sawStream) && sawStream[0];
  }

  private static boolean monotonic(RelNode rel, boolean[] sawStream) {
    if (rel instanceof CqlWindow) {
      sawStream[0] = true;
      return ((CqlWindow) rel).spec.kind == WindowSpec.Kind.UNBOUNDED;
    }
    if (rel instanceof LogicalProject p
        && org.apache.calcite.rex.RexOver.containsOver(p.getProjects(), null)) {
      return false; // a window function's value of a row changes as the relation grows
    }
    if (rel instanceof LogicalProject || rel instanceof LogicalFilter) {
      return monotonic(rel.getInput(0), sawStream);
    }
    if (rel instanceof LogicalJoin && ((LogicalJoin) rel).getJoinType() == JoinRelType.INNER) {
      return monotonic(rel.getInput(0), sawStream) && monotonic(rel.getInput(1), sawStream);
    }
    if (rel instanceof LogicalUnion && ((LogicalUnion) rel).all) {
      for (RelNode in : rel.getInputs()) {
        if (!monotonic(in, sawStream)) {
          return false;
        }
      }
      return true;
    }
    return rel instanceof LogicalValues;
  }

  /**
   * Calcite's field trimmer, or the untrimmed plan where Calcite's metadata trips over a
   * comparison with a NULL literal (an assertion in RelOptPredicateList, e.g. for
   * {@code CASE WHEN CAST(NULL AS INTEGER) = x THEN ...}). Trimming only drops unused
   * columns; the untrimmed plan means the same.
   */
  private static RelNode trimUnusedFields(SqlToRelConverter converter, boolean ordered,
      RelNode rel) {
    try {
      return converter.trimUnusedFields(ordered, rel);
    } catch (AssertionError e) {
      return rel;
    }
  }

  // ------------------------------------------------- ISTREAM/DSTREAM/RSTREAM

  /** ISTREAM/DSTREAM/RSTREAM if {@code node} is a call of one, else null. */
  static RelToStreamKind relToStreamKindOf(SqlNode node) {
    return relToStreamKind(node);
  }

  private static RelToStreamKind relToStreamKind(SqlNode node) {
    if (node instanceof SqlBasicCall
        && ((SqlBasicCall) node).getOperator() instanceof SqlUnresolvedFunction) {
      SqlIdentifier id = ((SqlUnresolvedFunction) ((SqlBasicCall) node).getOperator())
          .getSqlIdentifier();
      if (id != null && id.isSimple()) {
        switch (id.getSimple().toUpperCase(Locale.ROOT)) {
        case "ISTREAM":
          return RelToStreamKind.ISTREAM;
        case "DSTREAM":
          return RelToStreamKind.DSTREAM;
        case "RSTREAM":
          return RelToStreamKind.RSTREAM;
        default:
          return null;
        }
      }
    }
    return null;
  }

  /**
   * {@code ISTREAM(q)} as parsed, or {@code SELECT ISTREAM(a, b) FROM ...} rewritten to
   * {@code ISTREAM(SELECT a, b FROM ...)}; null for a query without one.
   */
  static SqlCqlRelToStream normalizeRelToStream(SqlNode query) {
    if (query instanceof SqlCqlRelToStream) {
      return (SqlCqlRelToStream) query;
    }
    RelToStreamKind asCall = relToStreamKind(query);
    if (asCall != null) {
      // EXPLAIN PLAN FOR ISTREAM(SELECT ...) parses the operator as a function call.
      SqlBasicCall call = (SqlBasicCall) query;
      if (call.operandCount() == 1 && call.operand(0).getKind().belongsTo(SqlKind.QUERY)) {
        return new SqlCqlRelToStream(call.getParserPosition(), asCall, call.operand(0));
      }
    }
    SqlNode q = query instanceof SqlOrderBy ? ((SqlOrderBy) query).query : query;
    if (q instanceof SqlSelect) {
      SqlSelect select = (SqlSelect) q;
      SqlNodeList items = select.getSelectList();
      if (items != null && items.size() == 1) {
        RelToStreamKind kind = relToStreamKind(items.get(0));
        if (kind != null) {
          SqlBasicCall call = (SqlBasicCall) items.get(0);
          SqlNodeList newItems = new SqlNodeList(call.getOperandList(), items.getParserPosition());
          if (newItems.isEmpty()) {
            throw CqlPlannerError.validate(call.getParserPosition(),
                kind + "() needs the select list inside it, e.g. " + kind + "(*)");
          }
          select.setSelectList(newItems);
          SqlLiteral quantifier = call.getFunctionQuantifier();
          if (quantifier != null && quantifier.getValue() == SqlSelectKeyword.DISTINCT) {
            // SELECT ISTREAM(DISTINCT a, b) is ISTREAM(SELECT DISTINCT a, b ...)
            select.setOperand(0, new SqlNodeList(List.of(quantifier), quantifier.getParserPosition()));
          }
          return new SqlCqlRelToStream(call.getParserPosition(), kind, query);
        }
      }
    }
    return null;
  }

  /** True for a stream-valued query written with ISTREAM/DSTREAM/RSTREAM (FROM items). */
  private static boolean isStreamQuery(SqlNode n) {
    return StreamSetOperation.hasStreamLeaf(n);
  }

  private static void checkNoStrayRelToStream(SqlNode query) {
    query.accept(new SqlBasicVisitor<Void>() {
      @Override public Void visit(SqlCall call) {
        RelToStreamKind kind = relToStreamKind(call);
        if (kind != null || call instanceof SqlCqlRelToStream) {
          String k = kind != null ? kind.name() : ((SqlCqlRelToStream) call).kind.name();
          throw CqlPlannerError.unsupported(call.getParserPosition(), k
              + " is only allowed around a whole query or as the only item of its outermost "
              + "SELECT (define a view for a stream subquery)");
        }
        return super.visit(call);
      }
    });
  }

  /**
   * SQL that Calcite plans but the runtime cannot run, refused with its position (rather than
   * when the plan is written, where positions are gone).
   */
  private static void checkSupported(SqlNode query) {
    query.accept(new SqlBasicVisitor<Void>() {
      @Override public Void visit(SqlCall call) {
        switch (call.getKind()) {
        case OVER:
          if (!(call.operandCount() == 2 && call.operand(1) instanceof SqlCqlWindow)) {
            WindowFunctions.check(call);
          }
          break;
        case MATCH_RECOGNIZE:
          throw CqlPlannerError.unsupported(call.getParserPosition(),
              "MATCH_RECOGNIZE is not supported in a continuous query");
        case UNNEST:
          throw CqlPlannerError.unsupported(call.getParserPosition(),
              "UNNEST is not supported in a continuous query");
        case SELECT:
          constantRowCount(((SqlSelect) call).getOffset(), "OFFSET");
          constantRowCount(((SqlSelect) call).getFetch(), "FETCH");
          break;
        case ORDER_BY:
          constantRowCount(((SqlOrderBy) call).offset, "OFFSET");
          constantRowCount(((SqlOrderBy) call).fetch, "FETCH");
          break;
        default:
          break;
        }
        return super.visit(call);
      }
    });
  }

  private static void constantRowCount(SqlNode n, String what) {
    if (n != null && !(n instanceof SqlLiteral)) {
      throw CqlPlannerError.unsupported(n.getParserPosition(),
          what + " must be a constant in a continuous query");
    }
  }

  // ---------------------------------------------------------------- windows

  /** Rewrites FROM items: streams and windows become references to synthetic window tables. */
  private final class WindowRewriter extends SqlBasicVisitor<Void> {
    private final Set<String> withNames = new HashSet<>();

    void rewrite(SqlNode query) {
      query.accept(new SqlBasicVisitor<Void>() {
        @Override public Void visit(SqlCall call) {
          if (call instanceof SqlWithItem) {
            withNames.add(((SqlWithItem) call).name.getSimple().toUpperCase(Locale.ROOT));
          }
          return super.visit(call);
        }
      });
      query.accept(this);
    }

    @Override public Void visit(SqlCall call) {
      if (call instanceof SqlSelect) {
        SqlSelect select = (SqlSelect) call;
        if (select.getFrom() != null) {
          select.setFrom(rewriteFrom(select.getFrom()));
        }
      } else if (call.getKind() == SqlKind.OVER && call.operandCount() == 2
          && call.operand(1) instanceof SqlCqlWindow) {
        throw CqlPlannerError.unsupported(call.operand(1).getParserPosition(),
            "Window " + ((SqlCqlWindow) call.operand(1)).describe()
            + " must follow a stream or view name in FROM");
      }
      return super.visit(call);
    }

    private SqlNode rewriteFrom(SqlNode from) {
      if (from instanceof SqlJoin) {
        SqlJoin join = (SqlJoin) from;
        join.setLeft(rewriteFrom(join.getLeft()));
        join.setRight(rewriteFrom(join.getRight()));
        return join;
      }
      if (from.getKind() == SqlKind.AS) {
        SqlCall as = (SqlCall) from;
        as.setOperand(0, rewriteItem(as.operand(0), true));
        return as;
      }
      return rewriteItem(from, false);
    }

    private SqlNode rewriteItem(SqlNode item, boolean aliased) {
      SqlCqlWindow window = null;
      SqlNode target = item;
      if (item.getKind() == SqlKind.OVER && ((SqlCall) item).operandCount() == 2
          && ((SqlCall) item).operand(1) instanceof SqlCqlWindow) {
        window = ((SqlCall) item).operand(1);
        target = ((SqlCall) item).operand(0);
        if (!(target instanceof SqlIdentifier)) {
          return derivedStream(target, window, item.getParserPosition());
        }
      }
      if (isStreamQuery(target)) {
        return derivedStream(target, null, item.getParserPosition());
      }
      if (!(target instanceof SqlIdentifier) || ((SqlIdentifier) target).isStar()) {
        return item;
      }
      SqlIdentifier id = (SqlIdentifier) target;
      String name = Util.last(id.names);
      SqlParserPos pos = id.getParserPosition();
      if (id.isSimple() && withNames.contains(name.toUpperCase(Locale.ROOT))) {
        if (window != null) {
          throw CqlPlannerError.unsupported(window.getParserPosition(),
              "Window " + window.describe() + " on WITH query '" + name
              + "': define a view instead");
        }
        return item;
      }
      CqlSourceTable source = catalog.source(name);
      final SqlNode ref;
      final String declared;
      if (source != null) {
        declared = source.name();
        if (!source.isStream()) {
          if (window != null) {
            throw CqlPlannerError.validate(window.getParserPosition(),
                "Window " + window.describe() + " on table '" + declared
                + "': windows apply to streams only");
          }
          return item;
        }
        WindowSpec spec = spec(window, source.getRowType(typeFactory), declared, "stream");
        ref = register(new WindowedTable(source.getRowType(typeFactory),
            () -> LogicalTableScan.create(cluster, tableFor(declared), List.of()), spec), pos);
      } else {
        CqlCatalog.View view = catalog.view(name);
        if (view == null) {
          throw CqlPlannerError.validate(pos, "Unknown stream or table '" + name + "'");
        }
        declared = view.name;
        ViewInfo info = viewInfo(view, pos);
        if (!info.stream) {
          if (window != null) {
            throw CqlPlannerError.validate(window.getParserPosition(),
                "Window " + window.describe() + " on view '" + declared
                + "': the view is a relation; windows apply to streams only");
          }
          return item;
        }
        WindowSpec spec = spec(window, info.rowType, declared, "view");
        ref = register(new WindowedTable(info.rowType, () -> viewRel(view, pos), spec), pos);
      }
      if (aliased) {
        return ref;
      }
      return SqlStdOperatorTable.AS.createCall(item.getParserPosition(), ref,
          new SqlIdentifier(declared, pos));
    }

    /**
     * A stream-valued query in FROM, {@code (ISTREAM(SELECT ...)) [RANGE 1 SECOND]}, seen
     * through its window ([UNBOUNDED] without one), as a stream-valued view would be. A
     * windowed subquery must be stream-valued (explicitly, or monotonic).
     */
    private SqlNode derivedStream(SqlNode query, SqlCqlWindow window, SqlParserPos pos) {
      Analyzed a = analyzeQuery(query, null, null);
      if (!a.stream) {
        throw CqlPlannerError.validate(window.getParserPosition(),
            "Window " + window.describe() + " on a subquery that is a relation; windows "
            + "apply to streams only (ISTREAM, DSTREAM or RSTREAM makes the subquery a stream)");
      }
      RelNode rel = a.rel;
      WindowSpec spec = spec(window, rel.getRowType(), "subquery", "subquery");
      return register(new WindowedTable(rel.getRowType(), () -> rel, spec), pos);
    }

    private WindowSpec spec(SqlCqlWindow window, RelDataType rowType, String name,
        String what) {
      if (window == null) {
        return WindowSpec.unbounded();
      }
      window.validate();
      List<Integer> keys = new ArrayList<>();
      for (SqlNode n : window.partitionBy) {
        SqlIdentifier col = (SqlIdentifier) n;
        RelDataTypeField f = rowType.getField(col.getSimple(), false, false);
        if (f == null) {
          throw CqlPlannerError.validate(col.getParserPosition(),
              "Column '" + col.getSimple() + "' not found in " + what + " '" + name + "'");
        }
        keys.add(f.getIndex());
      }
      return window.toSpec(keys);
    }
  }

  private RelOptTable tableFor(String name) {
    return reader.getTable(List.of(name));
  }

  private SqlIdentifier register(WindowedTable table, SqlParserPos pos) {
    String name = "$cql_window_" + (syntheticCount++);
    rootSchema.add(name, table);
    return new SqlIdentifier(name, pos);
  }

  /** Supplies the rel under a window. */
  private interface RelSupplier {
    RelNode get();
  }

  /** A stream (or stream view) seen through a window: rel = CqlWindow(input, spec). */
  private static final class WindowedTable extends AbstractTable implements TranslatableTable {
    private final RelDataType rowType;
    private final RelSupplier input;
    private final WindowSpec spec;

    WindowedTable(RelDataType rowType, RelSupplier input, WindowSpec spec) {
      this.rowType = rowType;
      this.input = input;
      this.spec = spec;
    }

    @Override public RelDataType getRowType(RelDataTypeFactory typeFactory) {
      return rowType;
    }

    @Override public RelNode toRel(RelOptTable.ToRelContext context, RelOptTable relOptTable) {
      return CqlWindow.create(input.get(), spec);
    }
  }

  // ------------------------------------------------------------------ views

  /** What a view is: its (renamed) row type and whether it is stream-valued. */
  public static final class ViewInfo {
    public final RelDataType rowType;
    public final boolean stream;

    ViewInfo(RelDataType rowType, boolean stream) {
      this.rowType = rowType;
      this.stream = stream;
    }
  }

  private ViewInfo viewInfo(CqlCatalog.View view, SqlParserPos refPos) {
    String key = view.name.toUpperCase(Locale.ROOT);
    ViewInfo info = viewInfos.get(key);
    if (info == null) {
      Analyzed a = analyzeView(view, refPos);
      info = new ViewInfo(a.rel.getRowType(), a.stream);
      viewInfos.put(key, info);
    }
    return info;
  }

  private RelNode viewRel(CqlCatalog.View view, SqlParserPos refPos) {
    return analyzeView(view, refPos).rel;
  }

  private Analyzed analyzeView(CqlCatalog.View view, SqlParserPos refPos) {
    String key = view.name.toUpperCase(Locale.ROOT);
    if (!viewsInProgress.add(key)) {
      throw CqlPlannerError.validate(refPos, "View '" + view.name + "' refers to itself");
    }
    try {
      SqlNode q = parse(view.query);
      ExpressionDepth.check(q);
      return analyzeQuery(q, view.columnNames, refPos);
    } catch (CqlPlannerError e) {
      if (e.getMessage().startsWith("In view ")) {
        throw e;
      }
      throw new CqlPlannerError(e.kind, "In view '" + view.name + "': " + e.getMessage(), refPos);
    } catch (SqlParseException e) {
      throw CqlPlannerError.validate(refPos, "In view '" + view.name + "': "
          + Errors.firstLine(e.getMessage()));
    } catch (org.apache.calcite.runtime.CalciteContextException e) {
      throw CqlPlannerError.validate(refPos, "In view '" + view.name + "': "
          + Errors.contextMessage(e));
    } finally {
      viewsInProgress.remove(key);
    }
  }

  /** A relation-valued view referenced by name: its rel is the view's query. */
  private final class ViewTable extends AbstractTable implements TranslatableTable {
    private final String name;

    ViewTable(String name) {
      this.name = name;
    }

    @Override public RelDataType getRowType(RelDataTypeFactory tf) {
      return viewInfo(catalog.view(name), SqlParserPos.ZERO).rowType;
    }

    @Override public RelNode toRel(RelOptTable.ToRelContext context, RelOptTable relOptTable) {
      return viewRel(catalog.view(name), SqlParserPos.ZERO);
    }
  }

  /** Analyzes a view definition for CREATE VIEW: its row type and kind. */
  public ViewInfo describeView(SqlNode query, List<String> columnNames, SqlParserPos pos) {
    Analyzed a = analyzeQuery(query, columnNames, pos);
    return new ViewInfo(a.rel.getRowType(), a.stream);
  }

  /** The cluster all rel nodes of this analyzer live in. */
  public RelOptCluster cluster() {
    return cluster;
  }

  /** True if {@code rel} is a scan of a declared table (not a stream). */
  static boolean isTableScan(RelNode rel) {
    return rel instanceof TableScan
        && rel.getTable().unwrap(CqlSourceTable.class) != null
        && !rel.getTable().unwrap(CqlSourceTable.class).isStream();
  }

  private static final class Util {
    static String last(List<String> names) {
      return names.get(names.size() - 1);
    }
  }
}
