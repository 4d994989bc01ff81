// The overview (minimap) of a big graph: the whole scene shrunk into a corner of the view,
// with the visible part framed; click or drag to move there.
#pragma once

#include <QPixmap>
#include <QWidget>

namespace qs::widgets {

class GraphView;

class GraphOverview : public QWidget {
    Q_OBJECT
public:
    explicit GraphOverview(GraphView* view);
    // The scene changed (new graph or colours): redraw the cached picture.
    void invalidate();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    QRectF target() const;  // where the scene is drawn inside this widget
    void centreViewAt(const QPointF& widgetPos);

    GraphView* m_view;
    QPixmap m_picture;
    bool m_dirty = true;
};

}  // namespace qs::widgets
