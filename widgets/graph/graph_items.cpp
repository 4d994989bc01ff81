#include "widgets/graph/graph_items.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QStyleOptionGraphicsItem>
#include <QWidget>
#include <cmath>

#include "widgets/graph/color_scale.h"

namespace qs::widgets {

namespace {

constexpr double kPadX = 8.0;
constexpr double kPadY = 5.0;
constexpr double kMinWidth = 96.0;
constexpr double kMaxWidth = 240.0;
constexpr double kArrow = 7.0;

QFont titleFont(QFont f) {
    f.setBold(true);
    return f;
}
QFont smallFont(QFont f) {
    f.setPointSizeF(f.pointSizeF() * 0.85);
    return f;
}

QPalette paletteOf(const QWidget* widget) {
    return widget ? widget->palette() : QPalette();
}

}  // namespace

QSizeF NodeItem::measure(const GraphNode& node, const QFont& font) {
    const QFontMetricsF title(titleFont(font)), small(smallFont(font));
    double w = title.horizontalAdvance(node.title);
    double h = title.height();
    if (!node.options.isEmpty()) {
        w = std::max(w, small.horizontalAdvance(node.options));
        h += small.height();
    }
    if (!node.output.isEmpty()) {
        w = std::max(w, small.horizontalAdvance(node.output));
        h += small.height();
    }
    return {std::clamp(std::ceil(w) + 2 * kPadX, kMinWidth, kMaxWidth), std::ceil(h) + 2 * kPadY};
}

NodeItem::NodeItem(int index, const GraphNode& node, const QSizeF& size)
    : m_index(index), m_node(node), m_size(size), m_badness(std::nan("")) {
    setFlag(ItemIsSelectable);
    setAcceptHoverEvents(false);
    setNode(node, std::nan(""));
}

void NodeItem::setNode(const GraphNode& node, double badness) {
    m_node = node;
    m_badness = badness;
    QString tip = QStringLiteral("<b>%1</b>").arg(node.title.toHtmlEscaped());
    if (!node.options.isEmpty()) tip += QStringLiteral(" %1").arg(node.options.toHtmlEscaped());
    if (!node.output.isEmpty()) tip += QStringLiteral("<br>%1").arg(node.output.toHtmlEscaped());
    if (!node.tooltip.isEmpty()) tip += QStringLiteral("<br>%1").arg(node.tooltip.toHtmlEscaped());
    if (node.greyed) {
        tip += QStringLiteral("<br><i>Not evaluated: %1</i>")
                   .arg((node.greyReason.isEmpty() ? QStringLiteral("no value") : node.greyReason)
                            .toHtmlEscaped());
    }
    setToolTip(tip);
    update();
}

void NodeItem::setFlagged(bool flagged) {
    if (flagged == m_flagged) return;
    m_flagged = flagged;
    update();
}

QRectF NodeItem::boundingRect() const {
    // Room for the selection and threshold outlines.
    return QRectF(-m_size.width() / 2 - 3, -m_size.height() / 2 - 3, m_size.width() + 6,
                  m_size.height() + 6);
}

void NodeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) {
    const QPalette pal = paletteOf(widget);
    const QRectF box(-m_size.width() / 2, -m_size.height() / 2, m_size.width(), m_size.height());
    const bool io = m_node.kind != GraphNode::Kind::Op;
    QColor fill;
    QColor text = pal.color(QPalette::Text);
    if (m_node.greyed) {
        fill = pal.color(QPalette::Window).darker(isDarkPalette(pal) ? 90 : 106);
        text = pal.color(QPalette::Disabled, QPalette::Text);
    } else if (!std::isnan(m_badness)) {
        fill = badnessColour(m_badness, pal);
        text = textColourOn(fill);
    } else if (io) {
        fill = pal.color(QPalette::AlternateBase);
    } else {
        fill = pal.color(QPalette::Base);
    }
    QPen border(m_node.greyed ? pal.color(QPalette::Disabled, QPalette::Text)
                              : pal.color(QPalette::Mid).darker(130),
                1.0, m_node.greyed ? Qt::DashLine : Qt::SolidLine);
    if (m_flagged) border = QPen(isDarkPalette(pal) ? QColor(255, 90, 90) : QColor(170, 0, 0), 2.5);
    if (isSelected()) border = QPen(pal.color(QPalette::Highlight), 3.0);
    painter->setPen(border);
    painter->setBrush(fill);
    const double radius = io ? m_size.height() / 2 : 4.0;
    painter->drawRoundedRect(box, radius, radius);

    // Level of detail: text is unreadable below ~40% zoom and costs most of the paint time.
    const double lod = option->levelOfDetailFromTransform(painter->worldTransform());
    if (lod < 0.4) return;
    painter->setPen(text);
    const QRectF inner = box.adjusted(kPadX / 2, kPadY, -kPadX / 2, -kPadY);
    const QFont base = widget ? widget->font() : QFont();
    const QFont tf = titleFont(base), sf = smallFont(base);
    const QFontMetricsF tm(tf), sm(sf);
    double y = inner.top();
    painter->setFont(tf);
    painter->drawText(QRectF(inner.left(), y, inner.width(), tm.height()), Qt::AlignCenter,
                      tm.elidedText(m_node.title, Qt::ElideMiddle, inner.width()));
    y += tm.height();
    painter->setFont(sf);
    for (const QString* line : {&m_node.options, &m_node.output}) {
        if (line->isEmpty()) continue;
        painter->drawText(QRectF(inner.left(), y, inner.width(), sm.height()), Qt::AlignCenter,
                          sm.elidedText(*line, Qt::ElideRight, inner.width()));
        y += sm.height();
    }
}

EdgeItem::EdgeItem(const std::vector<QPointF>& route, const QString& label) {
    QPainterPath path;
    if (route.size() >= 2) {
        // A smooth curve through the bend points: vertical tangents at every point, so edges
        // leave and enter nodes straight down.
        path.moveTo(route.front());
        for (size_t i = 1; i < route.size(); ++i) {
            const QPointF a = route[i - 1], b = route[i];
            const double dy = (b.y() - a.y()) / 2;
            path.cubicTo(a + QPointF(0, dy), b - QPointF(0, dy), b);
        }
        m_tip = route.back();
        m_dir = QPointF(0, route.back().y() >= route[route.size() - 2].y() ? 1 : -1);
    }
    setPath(path);
    setToolTip(label);
    setZValue(-1);
    setFlag(ItemIsSelectable, false);
}

QRectF EdgeItem::boundingRect() const {
    return QGraphicsPathItem::boundingRect().adjusted(-kArrow, -kArrow, kArrow, kArrow);
}

QPainterPath EdgeItem::shape() const {
    QPainterPathStroker stroker;
    stroker.setWidth(6);
    return stroker.createStroke(path());
}

void EdgeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget* widget) {
    const QPalette pal = paletteOf(widget);
    QColor c = pal.color(QPalette::Text);
    c.setAlphaF(0.55);
    painter->setPen(QPen(c, 1.2));
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(path());
    if (path().isEmpty()) return;
    painter->setPen(Qt::NoPen);
    painter->setBrush(c);
    const QPointF back = m_tip - m_dir * kArrow;
    const QPointF side(kArrow * 0.45, 0);
    painter->drawPolygon(QPolygonF({m_tip, back + side, back - side}));
}

}  // namespace qs::widgets
