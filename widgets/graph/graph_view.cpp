#include "widgets/graph/graph_view.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QImageWriter>
#include <QMouseEvent>
#include <QPainter>
#include <QSaveFile>
#include <QScrollBar>
#include <QSvgGenerator>
#include <QWheelEvent>
#include <cmath>

#include "widgets/graph/color_scale.h"
#include "widgets/graph/graph_items.h"
#include "widgets/graph/graph_overview.h"

namespace qs::widgets {

namespace {

constexpr double kMargin = 24.0;
constexpr double kMinZoom = 0.02;
constexpr double kMaxZoom = 4.0;
constexpr int kOverviewMax = 200;  // px, the overview's longer side

}  // namespace

// ---------------------------------------------------------------------------------------------

GraphOverview::GraphOverview(GraphView* view) : QWidget(view), m_view(view) {
    setCursor(Qt::PointingHandCursor);
    setToolTip(tr("Overview: click or drag to move"));
}

void GraphOverview::invalidate() {
    m_dirty = true;
    update();
}

QRectF GraphOverview::target() const {
    const QRectF scene = m_view->sceneRect();
    if (scene.isEmpty()) return {};
    const QRectF area = QRectF(rect()).adjusted(3, 3, -3, -3);
    const double s = std::min(area.width() / scene.width(), area.height() / scene.height());
    const QSizeF size(scene.width() * s, scene.height() * s);
    return QRectF(area.center() - QPointF(size.width() / 2, size.height() / 2), size);
}

void GraphOverview::paintEvent(QPaintEvent*) {
    QPainter p(this);
    QColor bg = palette().color(QPalette::Base);
    bg.setAlphaF(0.92);
    p.fillRect(rect(), bg);
    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(rect().adjusted(0, 0, -1, -1));
    const QRectF t = target();
    if (t.isEmpty() || !m_view->scene()) return;
    if (m_dirty || m_picture.size() != t.size().toSize() * devicePixelRatioF()) {
        const qreal dpr = devicePixelRatioF();
        m_picture = QPixmap((t.size() * dpr).toSize());
        m_picture.setDevicePixelRatio(dpr);
        m_picture.fill(Qt::transparent);
        QPainter pp(&m_picture);
        pp.setRenderHint(QPainter::Antialiasing);
        // At this scale nodes draw as plain boxes (their level of detail), so this is cheap.
        m_view->scene()->render(&pp, QRectF(QPointF(), t.size()), m_view->sceneRect());
        m_dirty = false;
    }
    p.drawPixmap(t.topLeft(), m_picture);
    // The visible part of the scene.
    const QRectF visible = m_view->mapToScene(m_view->viewport()->rect()).boundingRect();
    const QRectF scene = m_view->sceneRect();
    const double s = t.width() / scene.width();
    const QRectF frame((visible.left() - scene.left()) * s + t.left(),
                       (visible.top() - scene.top()) * s + t.top(), visible.width() * s,
                       visible.height() * s);
    QColor hl = palette().color(QPalette::Highlight);
    p.setPen(QPen(hl, 1.5));
    hl.setAlphaF(0.15);
    p.setBrush(hl);
    p.drawRect(frame.intersected(QRectF(rect())));
}

void GraphOverview::centreViewAt(const QPointF& pos) {
    const QRectF t = target();
    if (t.isEmpty()) return;
    const QRectF scene = m_view->sceneRect();
    const double s = t.width() / scene.width();
    m_view->centerOn(scene.left() + (pos.x() - t.left()) / s,
                     scene.top() + (pos.y() - t.top()) / s);
}

void GraphOverview::mousePressEvent(QMouseEvent* event) {
    centreViewAt(event->position());
}
void GraphOverview::mouseMoveEvent(QMouseEvent* event) {
    if (event->buttons() & Qt::LeftButton) centreViewAt(event->position());
}

// ---------------------------------------------------------------------------------------------

GraphView::GraphView(QWidget* parent) : QGraphicsView(parent), m_overview(new GraphOverview(this)) {
    setScene(new QGraphicsScene(this));
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
    setFocusPolicy(Qt::StrongFocus);
    m_overview->hide();
    connect(scene(), &QGraphicsScene::selectionChanged, this, [this] {
        if (m_selecting) return;
        const int node = selectedNode();
        const GraphNode* n = node >= 0 ? &m_graph.nodes[node] : nullptr;
        emit nodeSelected(node, n ? n->op : -1, n ? n->tensor : -1);
    });
}

GraphView::~GraphView() {
    // The scene is a child and would be deleted after this object's members; its item
    // removal emits selectionChanged, whose handler reads them. Delete it while they live.
    m_selecting = true;
    QGraphicsScene* s = scene();
    setScene(nullptr);
    delete s;
}

void GraphView::setGraph(const GraphModel& graph) {
    m_graph = graph;
    QElapsedTimer timer;
    timer.start();
    std::vector<QSizeF> sizes;
    sizes.reserve(static_cast<size_t>(graph.nodes.size()));
    for (const GraphNode& n : graph.nodes) sizes.push_back(NodeItem::measure(n, font()));
    std::vector<std::pair<int, int>> edges;
    edges.reserve(static_cast<size_t>(graph.edges.size()));
    for (const GraphEdge& e : graph.edges) edges.emplace_back(e.from, e.to);
    m_layout = layoutGraph(sizes, edges);
    rebuildScene();
    m_layoutMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
    fitAll();
}

void GraphView::rebuildScene() {
    m_selecting = true;
    scene()->clear();
    m_nodes.clear();
    m_edges.clear();
    // Items are added in one go with no index; a BSP tree would be rebuilt on every insert.
    scene()->setItemIndexMethod(QGraphicsScene::NoIndex);
    for (int i = 0; i < m_graph.nodes.size(); ++i) {
        const GraphNode& n = m_graph.nodes[i];
        auto* item = new NodeItem(i, n, NodeItem::measure(n, font()));
        item->setPos(m_layout.centres[static_cast<size_t>(i)]);
        scene()->addItem(item);
        m_nodes.push_back(item);
    }
    for (int e = 0; e < m_graph.edges.size(); ++e) {
        const auto& route = m_layout.routes[static_cast<size_t>(e)];
        if (route.empty()) continue;
        auto* item = new EdgeItem(route, m_graph.edges[e].label);
        scene()->addItem(item);
        m_edges.push_back(item);
    }
    scene()->setItemIndexMethod(QGraphicsScene::BspTreeIndex);
    setSceneRect(m_layout.bounds.adjusted(-kMargin, -kMargin, kMargin, kMargin));
    m_selecting = false;
    applyNodeState();
}

void GraphView::updateGraph(const GraphModel& graph) {
    if (graph.nodes.size() != m_graph.nodes.size() || graph.edges.size() != m_graph.edges.size()) {
        setGraph(graph);
        return;
    }
    m_graph = graph;
    applyNodeState();
}

void GraphView::applyNodeState() {
    for (int i = 0; i < m_nodes.size(); ++i) {
        const GraphNode& n = m_graph.nodes[i];
        const double b = n.greyed ? std::nan("") : badness(n.value, m_graph.metric);
        m_nodes[i]->setNode(n, b);
        m_nodes[i]->setFlagged(!std::isnan(b) && b > m_threshold);
    }
    m_overview->invalidate();
    m_paintPending = true;
    viewport()->update();
}

NodeItem* GraphView::nodeItem(int node) const {
    return node >= 0 && node < m_nodes.size() ? m_nodes[node] : nullptr;
}

void GraphView::setThreshold(double value) {
    m_threshold = value;
    for (NodeItem* item : m_nodes) {
        item->setFlagged(!std::isnan(item->badness()) && item->badness() > m_threshold);
    }
    m_overview->invalidate();
}

int GraphView::nodesPastThreshold() const {
    int count = 0;
    for (const NodeItem* item : m_nodes) count += item->flagged() ? 1 : 0;
    return count;
}

int GraphView::selectedNode() const {
    const auto items = scene()->selectedItems();
    for (QGraphicsItem* item : items) {
        if (item->type() == NodeItem::Type) return static_cast<NodeItem*>(item)->index();
    }
    return -1;
}

void GraphView::selectNode(int node, bool centre) {
    NodeItem* item = nodeItem(node);
    if (node == selectedNode() && item) {
        if (centre) ensureVisible(item, 40, 40);
        return;
    }
    m_selecting = true;
    scene()->clearSelection();
    if (item) item->setSelected(true);
    m_selecting = false;
    if (item && centre) ensureVisible(item, 40, 40);
    const GraphNode* n = item ? &m_graph.nodes[node] : nullptr;
    emit nodeSelected(item ? node : -1, n ? n->op : -1, n ? n->tensor : -1);
}

int GraphView::nodeForOp(int op) const {
    for (int i = 0; i < m_graph.nodes.size(); ++i) {
        if (m_graph.nodes[i].kind == GraphNode::Kind::Op && m_graph.nodes[i].op == op) return i;
    }
    return -1;
}

int GraphView::nodeForTensor(int tensor) const {
    // The producing op first, then an input/output node of that tensor.
    int fallback = -1;
    for (int i = 0; i < m_graph.nodes.size(); ++i) {
        if (m_graph.nodes[i].tensor != tensor) continue;
        if (m_graph.nodes[i].kind == GraphNode::Kind::Op) return i;
        if (fallback < 0) fallback = i;
    }
    return fallback;
}

int GraphView::findNext(const QString& text) {
    const int n = static_cast<int>(m_graph.nodes.size());
    if (text.isEmpty() || n == 0) return -1;
    const int start = selectedNode();
    for (int k = 1; k <= n; ++k) {
        const int i = (start + k + n) % n;
        const GraphNode& node = m_graph.nodes[i];
        if (node.title.contains(text, Qt::CaseInsensitive) ||
            node.options.contains(text, Qt::CaseInsensitive) ||
            node.search.contains(text, Qt::CaseInsensitive)) {
            selectNode(i);
            if (NodeItem* item = nodeItem(i)) centerOn(item);
            return i;
        }
    }
    return -1;
}

void GraphView::fitAll() {
    if (sceneRect().isEmpty()) return;
    fitInView(sceneRect(), Qt::KeepAspectRatio);
    // A tall graph fitted whole is unreadable; start at a zoom where labels can be read and
    // show the top (the inputs), the overview shows the rest.
    const double z = zoom();
    if (z > kMaxZoom) zoomBy(kMaxZoom / z);
    if (z < 0.7) {
        resetTransform();
        scale(0.85, 0.85);
        // Horizontally on the first node (a graph input), not the scene's centre: a wide
        // graph's top can be far from its middle.
        const double x = m_nodes.isEmpty() ? sceneRect().center().x() : m_nodes.front()->x();
        centerOn(x, sceneRect().top() + viewport()->height() / 2.0 / 0.85);
    }
    emit viewChanged();
    placeOverview();
}

double GraphView::zoom() const {
    return transform().m11();
}

void GraphView::zoomBy(double factor) {
    const double z = zoom();
    factor = std::clamp(z * factor, kMinZoom, kMaxZoom) / z;
    scale(factor, factor);
    emit viewChanged();
    m_overview->update();
}

void GraphView::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    if (steps == 0) return;
    zoomBy(std::pow(1.2, steps));
    event->accept();
}

void GraphView::paintEvent(QPaintEvent* event) {
    QGraphicsView::paintEvent(event);
    if (m_paintPending && !m_nodes.isEmpty()) {
        m_paintPending = false;
        emit painted();
    }
}

void GraphView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    placeOverview();
}

void GraphView::scrollContentsBy(int dx, int dy) {
    QGraphicsView::scrollContentsBy(dx, dy);
    m_overview->update();
}

void GraphView::changeEvent(QEvent* event) {
    QGraphicsView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        m_overview->invalidate();
        viewport()->update();
    }
}

void GraphView::drawBackground(QPainter* painter, const QRectF& rect) {
    painter->fillRect(rect, palette().color(QPalette::Base));
}

void GraphView::placeOverview() {
    const QRectF scene = sceneRect();
    const QRect vp = viewport()->geometry();
    // Only worth showing when the graph does not fit.
    const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
    const bool needed = !scene.isEmpty() && (visible.width() < scene.width() * 0.98 ||
                                             visible.height() < scene.height() * 0.98);
    if (!needed) {
        m_overview->hide();
        return;
    }
    // Tall CNN graphs get a full-height strip (its colours read as an error profile of the
    // model from input to output); wide graphs a box in the corner.
    const double aspect = scene.width() / scene.height();
    const int tall = std::min(vp.height() - 16, 2 * kOverviewMax);
    QSize size = aspect > 1 ? QSize(kOverviewMax, static_cast<int>(kOverviewMax / aspect))
                            : QSize(static_cast<int>(tall * aspect), tall);
    size = size.expandedTo(QSize(48, 48))
               .boundedTo(QSize(std::min(vp.width() / 3, kOverviewMax), vp.height() - 16));
    m_overview->setGeometry(vp.right() - size.width() - 8, vp.bottom() - size.height() - 8,
                            size.width(), size.height());
    m_overview->show();
    m_overview->raise();
    m_overview->invalidate();
}

bool GraphView::exportImage(const QString& path, QString* error) const {
    const QRectF source = sceneRect();
    const bool svg =
        QFileInfo(path).suffix().compare(QStringLiteral("svg"), Qt::CaseInsensitive) == 0;
    // Export without the selection outline, in the view's palette.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error) *error = file.errorString();
        return false;
    }
    if (svg) {
        QSvgGenerator gen;
        gen.setOutputDevice(&file);
        gen.setSize(source.size().toSize());
        gen.setViewBox(QRectF(QPointF(), source.size()));
        gen.setTitle(QStringLiteral("Quantscope graph"));
        QPainter p(&gen);
        p.fillRect(QRectF(QPointF(), source.size()), palette().color(QPalette::Base));
        scene()->render(&p, QRectF(QPointF(), source.size()), source);
    } else {
        // 2x for sharp text, capped so huge graphs stay within image limits.
        const double s = std::min(2.0, 16000.0 / std::max(source.width(), source.height()));
        QImage image((source.size() * s).toSize(), QImage::Format_ARGB32_Premultiplied);
        image.fill(palette().color(QPalette::Base));
        QPainter p(&image);
        p.setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
        scene()->render(&p, QRectF(QPointF(), image.size()), source);
        p.end();
        QImageWriter writer(&file, "png");
        if (!writer.write(image)) {
            if (error) *error = writer.errorString();
            file.cancelWriting();
            return false;
        }
    }
    if (!file.commit()) {
        if (error) *error = file.errorString();
        return false;
    }
    return true;
}

}  // namespace qs::widgets
