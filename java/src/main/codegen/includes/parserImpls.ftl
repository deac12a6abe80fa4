<#--
  pycql: the CQL productions added to Calcite's Parser.jj (see java/pom.xml).
-->

/**
 * One step of a FROM list (Calcite's JoinOrCommaTable, with SQL's precedence): a JOIN of the
 * tree so far with the next table, or a comma followed by a table reference and all the
 * JOINs that follow it, so that the comma binds looser than JOIN:
 * a LEFT JOIN b ON ..., c RIGHT JOIN d ON ... is (a LEFT JOIN b), (c RIGHT JOIN d).
 * FromClause (Parser.jj, patched at build time) calls it in its loop.
 */
SqlNode CqlJoinOrCommaTable(SqlNode e) :
{
    SqlNode e2;
    SqlLiteral joinType;
}
{
    LOOKAHEAD(2)
    <COMMA> { joinType = JoinType.COMMA.symbol(getPos()); }
    e2 = TableRef1(ExprContext.ACCEPT_QUERY_OR_JOIN)
    (
        LOOKAHEAD(2)
        e2 = JoinTable(e2)
    )*
    {
        return new SqlJoin(joinType.getParserPosition(),
            e,
            SqlLiteral.createBoolean(false, joinType.getParserPosition()),
            joinType,
            e2,
            JoinConditionType.NONE.symbol(SqlParserPos.ZERO),
            null);
    }
|
    e2 = JoinTable(e) { return e2; }
}

/**
 * The CQL window after a table reference in FROM/JOIN, or nothing:
 *   [NOW] | [UNBOUNDED] | [RANGE UNBOUNDED] | [RANGE n [unit] [SLIDE n [unit]]]
 *   | [ROWS n [SLIDE m]] | [PARTITION BY a, b ROWS n [SLIDE m]]
 *   | [SESSION gap] | [PARTITION BY a, b SESSION gap]
 * Over(tableRef) (Parser.jj, patched at build time) wraps the table as OVER(tableRef, window).
 */
SqlNode CqlWindowOpt() :
{
    final Span s;
    final Token first;
    WindowSpec.Kind kind;
    long range = 0;
    Long slide = null;
    long rows = 0;
    Long slideRows = null;
    long gap = 0;
    SqlNodeList partitionBy = null;
    SqlIdentifier id;
    Token from;
    String rangeText = null;
    String slideText = null;
    String rowsText = null;
    String slideRowsText = null;
    String gapText = null;
}
{
    (
        <LBRACKET> { s = span(); first = token; }
        (
            <NOW> { kind = WindowSpec.Kind.NOW; }
        |
            <UNBOUNDED> { kind = WindowSpec.Kind.UNBOUNDED; }
        |
            <RANGE>
            (
                <UNBOUNDED> { kind = WindowSpec.Kind.UNBOUNDED; }
            |
                { from = getToken(1); }
                range = CqlDurationMillis() {
                    kind = WindowSpec.Kind.RANGE;
                    rangeText = SqlCqlWindow.text(from, token);
                }
                [
                    <SLIDE> { from = getToken(1); }
                    slide = CqlDurationMillisBoxed() {
                        slideText = SqlCqlWindow.text(from, token);
                    }
                ]
            )
        |
            <ROWS> { from = getToken(1); }
            rows = CqlRowCount() {
                kind = WindowSpec.Kind.ROWS;
                rowsText = SqlCqlWindow.text(from, token);
            }
            [
                <SLIDE> { from = getToken(1); }
                slideRows = CqlRowCountBoxed() {
                    slideRowsText = SqlCqlWindow.text(from, token);
                }
            ]
        |
            <SESSION> { from = getToken(1); }
            gap = CqlDurationMillis() {
                kind = WindowSpec.Kind.SESSION;
                gapText = SqlCqlWindow.text(from, token);
            }
        |
            <PARTITION> <BY> { partitionBy = new SqlNodeList(getPos()); }
            id = SimpleIdentifier() { partitionBy.add(id); }
            (
                <COMMA> id = SimpleIdentifier() { partitionBy.add(id); }
            )*
            (
                <ROWS> { from = getToken(1); }
                rows = CqlRowCount() {
                    kind = WindowSpec.Kind.PARTITION;
                    rowsText = SqlCqlWindow.text(from, token);
                }
                [
                    <SLIDE> { from = getToken(1); }
                    slideRows = CqlRowCountBoxed() {
                        slideRowsText = SqlCqlWindow.text(from, token);
                    }
                ]
            |
                <SESSION> { from = getToken(1); }
                gap = CqlDurationMillis() {
                    kind = WindowSpec.Kind.SESSION;
                    gapText = SqlCqlWindow.text(from, token);
                }
            )
        )
        <RBRACKET>
        {
            return new SqlCqlWindow(s.end(this), kind, range, slide, rows, slideRows, gap,
                partitionBy, SqlCqlWindow.text(first, token), rangeText, slideText, rowsText,
                slideRowsText, gapText);
        }
    |
        { return null; }
    )
}

/**
 * A whole number of rows, possibly signed (the analyzer wants at least 1, and says so with the
 * position of the window).
 */
long CqlRowCount() :
{
    final SqlNumericLiteral n;
    boolean negative = false;
}
{
    [ <MINUS> { negative = true; } ]
    n = UnsignedNumericLiteral() {
        final BigDecimal v = negative ? n.getValueAs(BigDecimal.class).negate()
            : n.getValueAs(BigDecimal.class);
        if (v.stripTrailingZeros().scale() > 0) {
            throw CqlParseErrors.at(n.getParserPosition(),
                "Row count must be a whole number, not " + v.toPlainString());
        }
        try {
            return v.longValueExact();
        } catch (ArithmeticException e) {
            throw CqlParseErrors.at(n.getParserPosition(),
                "Row count " + v.toPlainString() + " is too large");
        }
    }
}

/** A row count as a Long (the SLIDE of a ROWS window). */
Long CqlRowCountBoxed() :
{
    final long n;
}
{
    n = CqlRowCount() { return n; }
}

/** A duration as a Long (the SLIDE of a window). */
Long CqlDurationMillisBoxed() :
{
    final long ms;
}
{
    ms = CqlDurationMillis() { return ms; }
}

/**
 * A duration: a number, possibly signed, and an optional time unit (seconds when omitted), in
 * milliseconds. The analyzer wants it positive, and says so with the position of the window.
 */
long CqlDurationMillis() :
{
    final SqlNumericLiteral n;
    long unitMillis = 1000L;
    SqlParserPos unitPos;
    boolean negative = false;
}
{
    [ <MINUS> { negative = true; } ]
    n = UnsignedNumericLiteral()
    [
        LOOKAHEAD({ getToken(1).kind != SLIDE && getToken(1).kind != RBRACKET })
        unitMillis = CqlTimeUnitMillis()
    ]
    {
        BigDecimal ms = n.getValueAs(BigDecimal.class)
            .multiply(BigDecimal.valueOf(unitMillis));
        if (negative) {
            ms = ms.negate();
        }
        if (ms.stripTrailingZeros().scale() > 0) {
            throw CqlParseErrors.at(n.getParserPosition(),
                "Duration must be a whole number of milliseconds, not "
                + ms.toPlainString() + " ms");
        }
        try {
            return ms.longValueExact();
        } catch (ArithmeticException e) {
            throw CqlParseErrors.at(n.getParserPosition(),
                "Duration " + ms.toPlainString() + " ms is too long");
        }
    }
}

/** A time unit, singular or plural; anything else is "Unknown time unit". */
long CqlTimeUnitMillis() :
{
    final SqlIdentifier id;
}
{
    // LOOKAHEAD(1): a unit keyword is the unit, not the SimpleIdentifier below (JavaCC's
    // choice anyway; said so, JavaCC warns no more)
    LOOKAHEAD(1) ( <MILLISECOND> | <MILLISECONDS> ) { return 1L; }
|   LOOKAHEAD(1) ( <SECOND> | <SECONDS> ) { return 1000L; }
|   LOOKAHEAD(1) ( <MINUTE> | <MINUTES> ) { return 60000L; }
|   LOOKAHEAD(1) ( <HOUR> | <HOURS> ) { return 3600000L; }
|   LOOKAHEAD(1) ( <DAY> | <DAYS> ) { return 86400000L; }
|   id = SimpleIdentifier() {
        throw CqlParseErrors.at(id.getParserPosition(),
            "Unknown time unit '" + id.getSimple() + "'; expected MILLISECOND(S), SECOND(S), "
            + "MINUTE(S), HOUR(S) or DAY(S)");
    }
}

/** ISTREAM | DSTREAM | RSTREAM. */
RelToStreamKind CqlRelToStreamKind() :
{
}
{
    <ISTREAM> { return RelToStreamKind.ISTREAM; }
|   <DSTREAM> { return RelToStreamKind.DSTREAM; }
|   <RSTREAM> { return RelToStreamKind.RSTREAM; }
}

/**
 * ISTREAM(...), DSTREAM(...) or RSTREAM(...) met inside an expression. As the only item of
 * a select list its operands are select items, aliases allowed:
 * {@code SELECT ISTREAM(auction, price * 2 AS doubled) FROM Bid [NOW]}; around a query
 * ({@code EXPLAIN PLAN FOR ISTREAM(SELECT ...)}) its one operand is the query. Either way it
 * is a call of the unresolved function of that name, which the analyzer turns into the
 * relation-to-stream operator (and rejects anywhere else).
 */
SqlNode CqlRelToStreamCall() :
{
    final Span s;
    final RelToStreamKind kind;
    final List<SqlNode> items = new ArrayList<SqlNode>();
    final SqlNode query;
    SqlLiteral quantifier = null;
}
{
    kind = CqlRelToStreamKind() { s = span(); }
    <LPAREN>
    (
        LOOKAHEAD({ getToken(1).kind == SELECT || getToken(1).kind == WITH
            || getToken(1).kind == VALUES })
        query = OrderedQueryOrExpr(ExprContext.ACCEPT_QUERY) { items.add(query); }
    |
        [
            <DISTINCT> { quantifier = SqlSelectKeyword.DISTINCT.symbol(getPos()); }
        |   <ALL> { quantifier = SqlSelectKeyword.ALL.symbol(getPos()); }
        ]
        AddSelectItem(items) ( <COMMA> AddSelectItem(items) )*
    )
    <RPAREN>
    {
        return new SqlUnresolvedFunction(new SqlIdentifier(kind.name(), s.pos()), null, null,
            null, null, SqlFunctionCategory.USER_DEFINED_FUNCTION)
            .createCall(quantifier, s.end(this), items);
    }
}

/** ISTREAM(query), DSTREAM(query), RSTREAM(query) around a whole query. */
SqlNode CqlRelToStreamStatement() :
{
    final Span s;
    final RelToStreamKind kind;
    final SqlNode query;
}
{
    kind = CqlRelToStreamKind() { s = span(); }
    <LPAREN> query = OrderedQueryOrExpr(ExprContext.ACCEPT_QUERY) <RPAREN>
    {
        return new SqlCqlRelToStream(s.end(this), kind, query);
    }
}

/**
 * A stream-valued query made of relation-to-stream operators and set operators:
 * ISTREAM(q1) UNION ALL ISTREAM(q2) ... (the merge of the streams). Other operands
 * (SELECT ..., (SELECT ...)) are parsed too; the analyzer wants each to be stream-valued,
 * and says so with its position. One operator alone is returned as it is.
 */
SqlNode CqlStreamQuery() :
{
    SqlNode e;
    final List<Object> list = new ArrayList<Object>();
    SqlOperator op;
    SqlParserPos pos;
}
{
    e = CqlRelToStreamStatement() { list.add(e); }
    (
        op = BinaryQueryOperator() { pos = getPos(); }
        e = CqlStreamSetOperand() {
            list.add(new SqlParserUtil.ToTreeListItem(op, pos));
            list.add(e);
        }
    )*
    { return list.size() == 1 ? (SqlNode) list.get(0) : SqlParserUtil.toTree(list); }
}

/** An operand of a stream set operation: ISTREAM(...) etc., or a query. */
SqlNode CqlStreamSetOperand() :
{
    final SqlNode e;
}
{
    (
        LOOKAHEAD(2) e = CqlRelToStreamStatement()
    |
        e = LeafQueryOrExpr(ExprContext.ACCEPT_QUERY)
    )
    { return e; }
}

/**
 * A parenthesized table reference in FROM (TableRef3, Parser.jj, patched at build time):
 * a stream-valued query, FROM (ISTREAM(SELECT ...) [UNION ALL ...]) [window] AS a, or
 * Calcite's parenthesized query or join.
 */
SqlNode CqlParenthesizedTableRef(ExprContext exprContext) :
{
    final SqlNode e;
}
{
    (
        LOOKAHEAD(<LPAREN> CqlRelToStreamKind() <LPAREN>)
        <LPAREN> e = CqlStreamQuery() <RPAREN>
    |
        e = ParenthesizedExpression(exprContext)
    )
    { return e; }
}

/** A CQL query: a query, optionally inside ISTREAM/DSTREAM/RSTREAM (or a set of those). */
SqlNode CqlQuery() :
{
    final SqlNode q;
}
{
    (
        LOOKAHEAD(2) q = CqlStreamQuery()
    |
        q = OrderedQueryOrExpr(ExprContext.ACCEPT_QUERY)
    )
    { return q; }
}

/** A CQL query or INSERT/UPSERT/DELETE. */
SqlNode CqlQueryOrDml() :
{
    final SqlNode q;
}
{
    (
        LOOKAHEAD(2) q = CqlStreamQuery()
    |
        LOOKAHEAD(2) q = CqlInsert()
    |
        q = SqlQueryOrDml()
    )
    { return q; }
}

/**
 * EXPLAIN q, or Calcite's EXPLAIN PLAN [detail] [depth] [AS JSON|XML|DOT] FOR q,
 * where q may be a CQL stream query; EXPLAIN ANALYZE [PLAN FOR] q runs q (PostgreSQL's
 * and DuckDB's EXPLAIN ANALYZE) and reports what it did.
 */
SqlNode CqlExplain() :
{
    final Span s;
    SqlNode stmt;
    SqlExplainLevel detailLevel = SqlExplainLevel.EXPPLAN_ATTRIBUTES;
    SqlExplain.Depth depth = SqlExplain.Depth.PHYSICAL;
    SqlExplainFormat format = SqlExplainFormat.TEXT;
    boolean analyze = false;
    final String queryId;
}
{
    <EXPLAIN> { s = span(); }
    (
        LOOKAHEAD(<ANALYZE> CqlQueryId() <EOF>)
        <ANALYZE> queryId = CqlQueryId() {
            return new SqlCqlExplainAnalyzeQueryId(s.end(this), queryId);
        }
    |
    [ LOOKAHEAD(1) <ANALYZE> { analyze = true; } ]
    (
        LOOKAHEAD({ getToken(1).kind == PLAN
            && (getToken(2).kind == FOR || getToken(2).kind == AS
                || getToken(2).kind == WITH || getToken(2).kind == WITHOUT
                || getToken(2).kind == EXCLUDING || getToken(2).kind == INCLUDING) })
        <PLAN>
        [ detailLevel = ExplainDetailLevel() ]
        depth = ExplainDepth()
        (
            LOOKAHEAD(2)
            <AS> <XML> { format = SqlExplainFormat.XML; }
        |
            LOOKAHEAD(2)
            <AS> <JSON> { format = SqlExplainFormat.JSON; }
        |
            <AS> <DOT_FORMAT> { format = SqlExplainFormat.DOT; }
        |
            { format = SqlExplainFormat.TEXT; }
        )
        <FOR> stmt = CqlQueryOrDml()
    |
        stmt = CqlQueryOrDml()
    )
    {
        if (analyze) {
            return new SqlCqlExplainAnalyze(s.end(stmt), stmt, nDynamicParams);
        }
        return new SqlExplain(s.end(stmt), stmt,
            detailLevel.symbol(SqlParserPos.ZERO),
            depth.symbol(SqlParserPos.ZERO),
            format.symbol(SqlParserPos.ZERO),
            nDynamicParams);
    }
    )
}

/**
 * The id of a persistent query (TERMINATE, EXPLAIN ANALYZE): an identifier, quoted or not,
 * or a character string; its spelling as written.
 */
String CqlQueryId() :
{
    final SqlIdentifier id;
    final SqlNode literal;
}
{
    id = SimpleIdentifier() { return id.getSimple(); }
|
    literal = StringLiteral() {
        final SqlLiteral l = SqlLiteral.unchain(literal);
        if (!(l instanceof SqlCharStringLiteral)) {
            throw CqlParseErrors.at(literal.getParserPosition(),
                "A query id is an identifier or a character string");
        }
        return l.getValueAs(String.class);
    }
}

/** TERMINATE query_id | TERMINATE ALL: stop one persistent query, or all of them. */
SqlNode CqlTerminate() :
{
    final Span s;
    String queryId = null;
}
{
    <TERMINATE> { s = span(); }
    (
        <ALL>
    |
        queryId = CqlQueryId()
    )
    { return new SqlCqlTerminate(s.end(this), queryId); }
}

/**
 * INSERT | UPSERT INTO name [(col, ...)] source, as Calcite's SqlInsert, where the source
 * may be any CQL query (ISTREAM(SELECT ...) included) or VALUES.
 */
SqlNode CqlInsert() :
{
    final List<SqlLiteral> keywords = new ArrayList<SqlLiteral>();
    final SqlNodeList keywordList;
    final SqlIdentifier tableName;
    SqlNode tableRef;
    final SqlNode source;
    final SqlNodeList columnList;
    final Span s;
    final Pair<SqlNodeList, SqlNodeList> p;
}
{
    (
        <INSERT>
    |
        <UPSERT> { keywords.add(SqlInsertKeyword.UPSERT.symbol(getPos())); }
    )
    { s = span(); }
    SqlInsertKeywords(keywords) {
        keywordList = new SqlNodeList(keywords, s.addAll(keywords).pos());
    }
    <INTO> tableName = CompoundTableIdentifier()
    ( tableRef = TableHints(tableName) | { tableRef = tableName; } )
    [ LOOKAHEAD(5) tableRef = ExtendTable(tableRef) ]
    (
        LOOKAHEAD(2)
        p = ParenthesizedCompoundIdentifierList() {
            if (!p.right.isEmpty()) {
                tableRef = extend(tableRef, p.right);
            }
            if (!p.left.isEmpty()) {
                columnList = p.left;
            } else {
                columnList = null;
            }
        }
    |   { columnList = null; }
    )
    source = CqlQuery() {
        return new SqlInsert(s.end(source), keywordList, tableRef, source, columnList);
    }
}

/**
 * ALTER STREAM name HEARTBEAT timestamp: the stream has no more elements stamped before the
 * timestamp (a TIMESTAMP, epoch milliseconds, or ?: the analyzer checks the type).
 */
SqlNode CqlAlterStream() :
{
    final Span s;
    final SqlIdentifier name;
    final SqlNode timestamp;
}
{
    <ALTER> { s = span(); } <STREAM> name = CompoundIdentifier()
    <HEARTBEAT> timestamp = Expression(ExprContext.ACCEPT_NON_QUERY)
    {
        return new SqlCqlHeartbeat(s.end(this), name, timestamp);
    }
}

/** SHOW STREAMS | TABLES | VIEWS | QUERIES. */
SqlNode CqlShow() :
{
    final Span s;
    final String what;
}
{
    <SHOW> { s = span(); }
    (
        <STREAMS> { what = "streams"; }
    |   <TABLES> { what = "tables"; }
    |   <VIEWS> { what = "views"; }
    |   <QUERIES> { what = "queries"; }
    )
    { return new SqlShowCql(s.end(this), what); }
}

/** IF NOT EXISTS, or nothing. */
boolean CqlIfNotExists() :
{
}
{
    LOOKAHEAD(3) <IF> <NOT> <EXISTS> { return true; }
|   { return false; }
}

/** IF EXISTS, or nothing. */
boolean CqlIfExists() :
{
}
{
    LOOKAHEAD(2) <IF> <EXISTS> { return true; }
|   { return false; }
}

/** name type [NOT NULL | NULL], where type may be INTERVAL qualifier (INTERVAL DAY TO SECOND) */
CqlColumnDef CqlColumn() :
{
    final SqlIdentifier name;
    SqlDataTypeSpec type = null;
    SqlIntervalQualifier interval = null;
    boolean nullable = true;
}
{
    name = SimpleIdentifier()
    (
        <INTERVAL> interval = IntervalQualifier()
    |
        type = DataType()
    )
    [
        <NOT> <NULL> { nullable = false; }
    |
        <NULL> { nullable = true; }
    ]
    { return new CqlColumnDef(name, type, interval, nullable); }
}

/** WITH (key = 'value', ...), or nothing: keys lower-case, values strings. */
void CqlWithOptions(Map<String, String> withOptions) :
{
}
{
    [
        <WITH> <LPAREN>
        CqlOption(withOptions)
        ( <COMMA> CqlOption(withOptions) )*
        <RPAREN>
    ]
}

void CqlOption(Map<String, String> withOptions) :
{
    final String key;
    final SqlIdentifier id;
    final SqlNode keyLiteral;
    final SqlNode value;
    final SqlNumericLiteral number;
    final String v;
}
{
    (
        id = CompoundIdentifier() { key = id.toString(); }
    |
        // TIMESTAMP is a reserved word, yet the natural name of the option
        <TIMESTAMP> { key = "timestamp"; }
    |
        keyLiteral = StringLiteral() {
            key = SqlLiteral.unchain(keyLiteral).getValueAs(String.class);
        }
    )
    <EQ>
    (
        value = StringLiteral() { v = SqlLiteral.unchain(value).getValueAs(String.class); }
    |
        number = UnsignedNumericLiteral() { v = number.toValue(); }
    |
        <TRUE> { v = "true"; }
    |
        <FALSE> { v = "false"; }
    )
    { withOptions.put(key.toLowerCase(Locale.ROOT), v); }
}

/** The column list of CREATE STREAM / TABLE, with an optional PRIMARY KEY (a, b). */
void CqlColumnList(List<CqlColumnDef> columns, SqlNodeList[] primaryKey) :
{
    CqlColumnDef c;
}
{
    <LPAREN>
    CqlColumnOrKey(columns, primaryKey)
    ( <COMMA> CqlColumnOrKey(columns, primaryKey) )*
    <RPAREN>
}

void CqlColumnOrKey(List<CqlColumnDef> columns, SqlNodeList[] primaryKey) :
{
    final CqlColumnDef c;
    final Span s;
    final SqlNodeList key;
}
{
    <PRIMARY> { s = span(); } <KEY> key = ParenthesizedSimpleIdentifierList() {
        if (primaryKey[0] != null) {
            throw CqlParseErrors.at(s.end(this), "Only one PRIMARY KEY is allowed");
        }
        primaryKey[0] = key;
    }
|
    c = CqlColumn() { columns.add(c); }
}

/**
 * CREATE STREAM [IF NOT EXISTS] name (col type, ...) [WITH (...)], or
 * CREATE STREAM [IF NOT EXISTS] name [WITH (...)] AS query (a persistent query)
 */
SqlCreate CqlCreateStream(Span s, boolean replace) :
{
    final boolean ifNotExists;
    final SqlIdentifier name;
    final List<CqlColumnDef> columns = new ArrayList<CqlColumnDef>();
    final SqlNodeList[] primaryKey = new SqlNodeList[1];
    final Map<String, String> withOptions = new java.util.LinkedHashMap<String, String>();
    final SqlNode query;
}
{
    <STREAM> ifNotExists = CqlIfNotExists() name = CompoundIdentifier()
    (
    CqlWithOptions(withOptions) <AS> query = CqlQuery()
    {
        if (replace) {
            throw CqlParseErrors.at(s.end(this), "CREATE OR REPLACE is only supported for views");
        }
        return new SqlCreateCqlAs(s.end(this), true, ifNotExists, name, withOptions, query);
    }
    |
    CqlColumnList(columns, primaryKey)
    CqlWithOptions(withOptions)
    {
        if (replace) {
            throw CqlParseErrors.at(s.end(this), "CREATE OR REPLACE is only supported for views");
        }
        if (primaryKey[0] != null) {
            throw CqlParseErrors.at(primaryKey[0].getParserPosition(),
                "A stream has no PRIMARY KEY; declare a TABLE instead");
        }
        return new SqlCreateCqlSource(s.end(this), false, true, ifNotExists, name, columns,
            new SqlNodeList(SqlParserPos.ZERO), withOptions);
    }
    )
}

/**
 * CREATE TABLE [IF NOT EXISTS] name (col type, ..., PRIMARY KEY (a, b)) [WITH (...)], or
 * CREATE TABLE [IF NOT EXISTS] name [WITH (...)] AS query (a persistent query)
 */
SqlCreate CqlCreateTable(Span s, boolean replace) :
{
    final boolean ifNotExists;
    final SqlIdentifier name;
    final List<CqlColumnDef> columns = new ArrayList<CqlColumnDef>();
    final SqlNodeList[] primaryKey = new SqlNodeList[1];
    final Map<String, String> withOptions = new java.util.LinkedHashMap<String, String>();
    final SqlNode query;
}
{
    <TABLE> ifNotExists = CqlIfNotExists() name = CompoundIdentifier()
    (
    CqlWithOptions(withOptions) <AS> query = CqlQuery()
    {
        if (replace) {
            throw CqlParseErrors.at(s.end(this), "CREATE OR REPLACE is only supported for views");
        }
        return new SqlCreateCqlAs(s.end(this), false, ifNotExists, name, withOptions, query);
    }
    |
    CqlColumnList(columns, primaryKey)
    CqlWithOptions(withOptions)
    {
        if (replace) {
            throw CqlParseErrors.at(s.end(this), "CREATE OR REPLACE is only supported for views");
        }
        return new SqlCreateCqlSource(s.end(this), false, false, ifNotExists, name, columns,
            primaryKey[0] == null ? new SqlNodeList(SqlParserPos.ZERO) : primaryKey[0], withOptions);
    }
    )
}

/** CREATE [OR REPLACE] VIEW name [(col, ...)] AS query */
SqlCreate CqlCreateView(Span s, boolean replace) :
{
    final SqlIdentifier name;
    SqlNodeList columnNames = null;
    final SqlNode query;
}
{
    <VIEW> name = CompoundIdentifier()
    [ columnNames = ParenthesizedSimpleIdentifierList() ]
    <AS> query = CqlQuery()
    {
        return new SqlCreateCqlView(s.end(this), replace, name, columnNames, query);
    }
}

/** DROP STREAM | TABLE | VIEW [IF EXISTS] name */
SqlDrop CqlDropObject(Span s, boolean replace) :
{
    final String object;
    final boolean ifExists;
    final SqlIdentifier name;
}
{
    (
        <STREAM> { object = "stream"; }
    |   <TABLE> { object = "table"; }
    |   <VIEW> { object = "view"; }
    )
    ifExists = CqlIfExists() name = CompoundIdentifier()
    {
        return new SqlDropCqlObject(s.end(this), object, ifExists, name);
    }
}
