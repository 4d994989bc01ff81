// Scene items of the graph view: a node box and an edge curve. Both paint from the palette
// of the view they are shown in, so light and dark themes work.
#pragma once

#include <QGraphicsItem>
#include <QGraphicsPathItem>

#include "widgets/graph/graph_model.h"

namespace qs::widgets {

class NodeItem : public QGraphicsItem {
public:
    static constexpr int Type = UserType + 1;
    NodeItem(int index, const GraphNode& node, const QSizeF& size);

    int type() const override { return Type; }
    int index() const { return m_index; }
    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

    void setNode(const GraphNode& node, double badness);
    void setFlagged(bool flagged);
    double badness() const { return m_badness; }
    bool flagged() const { return m_flagged; }
    const GraphNode& node() const { return m_node; }

    // The size a node needs for its text in the view's font.
    static QSizeF measure(const GraphNode& node, const QFont& font);

private:
    int m_index;
    GraphNode m_node;
    QSizeF m_size;
    double m_badness;
    bool m_flagged = false;
};

class EdgeItem : public QGraphicsPathItem {
public:
    static constexpr int Type = UserType + 2;
    EdgeItem(const std::vector<QPointF>& route, const QString& label);
    int type() const override { return Type; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    QPointF m_tip;
    QPointF m_dir;
};

}  // namespace qs::widgets
