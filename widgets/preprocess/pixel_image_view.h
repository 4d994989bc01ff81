// An image shown pixel-exact: nearest-neighbour magnification so single pixels stay visible,
// zoom (wheel, +/-, fit with 0 or F, 1:1 with 1) and pan (drag, arrow keys). Views that share a
// ZoomLink zoom and pan together, so pipelines can be compared pixel by pixel.
#pragma once

#include <QImage>
#include <QObject>
#include <QPointF>
#include <QWidget>

namespace qs::widgets {

// The shared view state: `zoom` screen pixels per image pixel (0: fit each view) and the image
// point at the centre of every view.
class ZoomLink : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    double zoom() const { return m_zoom; }
    QPointF center() const { return m_center; }
    bool fitting() const { return m_zoom <= 0; }
    void set(double zoom, QPointF center);
    void fit() { set(0, m_center); }

    static constexpr double kMinZoom = 0.05, kMaxZoom = 64.0;

signals:
    void changed();

private:
    double m_zoom = 0;
    QPointF m_center;
};

class PixelImageView : public QWidget {
    Q_OBJECT
public:
    explicit PixelImageView(QWidget* parent = nullptr);

    void setImage(const QImage& image);
    const QImage& image() const { return m_image; }
    // Shares zoom and pan with every view on `link` (not owned); null: a private link.
    void setLink(ZoomLink* link);
    ZoomLink* link() const { return m_link; }
    // Shown instead of the image when there is none.
    void setPlaceholder(const QString& text);

    // Screen pixels per image pixel as drawn now.
    double scale() const;
    void zoomBy(double factor, QPointF anchor);
    void zoomBy(double factor) { zoomBy(factor, QPointF(width() / 2.0, height() / 2.0)); }
    void fit();
    void actualSize();
    void panBy(QPointF screenDelta);
    // Image coordinates of a point in the widget.
    QPointF toImage(QPointF widgetPoint) const;

    QSize sizeHint() const override { return {260, 260}; }
    QSize minimumSizeHint() const override { return {120, 120}; }

signals:
    void hovered(QPoint pixel);  // image pixel under the mouse, (-1, -1) outside

protected:
    void paintEvent(QPaintEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    QPointF center() const;

    QImage m_image;
    QString m_placeholder;
    ZoomLink* m_ownLink;
    ZoomLink* m_link;
    QPoint m_dragFrom;
    bool m_dragging = false;
};

}  // namespace qs::widgets
