#include "widgets/preprocess/pixel_image_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace qs::widgets {

void ZoomLink::set(double zoom, QPointF center) {
    zoom = zoom <= 0 ? 0 : std::clamp(zoom, kMinZoom, kMaxZoom);
    if (zoom == m_zoom && center == m_center) return;
    m_zoom = zoom;
    m_center = center;
    emit changed();
}

PixelImageView::PixelImageView(QWidget* parent)
    : QWidget(parent), m_ownLink(new ZoomLink(this)), m_link(m_ownLink) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setToolTip(
        tr("Wheel or +/-: zoom; drag or arrows: pan; 0 or F: fit; 1: one screen pixel "
           "per image pixel; double-click: toggle fit / 1:1"));
    connect(m_link, &ZoomLink::changed, this, qOverload<>(&QWidget::update));
}

void PixelImageView::setImage(const QImage& image) {
    m_image = image;
    update();
}

void PixelImageView::setLink(ZoomLink* link) {
    disconnect(m_link, &ZoomLink::changed, this, nullptr);
    m_link = link ? link : m_ownLink;
    connect(m_link, &ZoomLink::changed, this, qOverload<>(&QWidget::update));
    update();
}

void PixelImageView::setPlaceholder(const QString& text) {
    m_placeholder = text;
    update();
}

double PixelImageView::scale() const {
    if (!m_link->fitting() || m_image.isNull()) return m_link->zoom() > 0 ? m_link->zoom() : 1.0;
    return std::min(width() / static_cast<double>(m_image.width()),
                    height() / static_cast<double>(m_image.height()));
}

QPointF PixelImageView::center() const {
    if (m_link->fitting()) return QPointF(m_image.width() / 2.0, m_image.height() / 2.0);
    return m_link->center();
}

QPointF PixelImageView::toImage(QPointF p) const {
    const double s = scale();
    return center() + (p - QPointF(width() / 2.0, height() / 2.0)) / s;
}

void PixelImageView::zoomBy(double factor, QPointF anchor) {
    if (m_image.isNull()) return;
    const double s = scale();
    const double z = std::clamp(s * factor, ZoomLink::kMinZoom, ZoomLink::kMaxZoom);
    // Keep the image point under `anchor` where it is.
    const QPointF at = toImage(anchor);
    const QPointF c = at - (anchor - QPointF(width() / 2.0, height() / 2.0)) / z;
    m_link->set(z, c);
}

void PixelImageView::fit() {
    m_link->fit();
}

void PixelImageView::actualSize() {
    m_link->set(1.0, center());
}

void PixelImageView::panBy(QPointF delta) {
    if (m_image.isNull()) return;
    m_link->set(scale(), center() - delta / scale());
}

void PixelImageView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Dark));
    if (m_image.isNull()) {
        p.setPen(palette().color(QPalette::BrightText));
        p.drawText(rect().adjusted(8, 8, -8, -8), Qt::AlignCenter | Qt::TextWordWrap,
                   m_placeholder);
        return;
    }
    const double s = scale();
    const QPointF topLeft = QPointF(width() / 2.0, height() / 2.0) - center() * s;
    const QRectF target(topLeft, QSizeF(m_image.width() * s, m_image.height() * s));
    // No SmoothPixmapTransform: magnified pixels are drawn as blocks (nearest neighbour).
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(target, m_image);
    if (hasFocus()) {
        p.setPen(QPen(palette().color(QPalette::Highlight), 2));
        p.drawRect(rect().adjusted(1, 1, -1, -1));
    }
    p.setPen(palette().color(QPalette::BrightText));
    p.drawText(rect().adjusted(4, 2, -4, -2), Qt::AlignRight | Qt::AlignBottom,
               m_link->fitting() ? tr("fit %1%").arg(std::lround(s * 100))
                                 : tr("%1%").arg(std::lround(s * 100)));
}

void PixelImageView::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    if (steps != 0) zoomBy(std::pow(1.25, steps), event->position());
    event->accept();
}

void PixelImageView::mousePressEvent(QMouseEvent* event) {
    setFocus(Qt::MouseFocusReason);
    if (event->button() == Qt::LeftButton) {
        m_dragging = true;
        m_dragFrom = event->position().toPoint();
        setCursor(Qt::ClosedHandCursor);
    }
}

void PixelImageView::mouseMoveEvent(QMouseEvent* event) {
    const QPoint at = event->position().toPoint();
    if (m_dragging) {
        panBy(at - m_dragFrom);
        m_dragFrom = at;
    }
    const QPointF ip = toImage(event->position());
    const QPoint px(static_cast<int>(std::floor(ip.x())), static_cast<int>(std::floor(ip.y())));
    emit hovered(m_image.rect().contains(px) ? px : QPoint(-1, -1));
}

void PixelImageView::mouseReleaseEvent(QMouseEvent*) {
    m_dragging = false;
    unsetCursor();
}

void PixelImageView::mouseDoubleClickEvent(QMouseEvent*) {
    if (m_link->fitting())
        actualSize();
    else
        fit();
}

void PixelImageView::keyPressEvent(QKeyEvent* event) {
    const double step = 40;
    switch (event->key()) {
        case Qt::Key_Plus:
        case Qt::Key_Equal:
            zoomBy(1.25);
            break;
        case Qt::Key_Minus:
            zoomBy(0.8);
            break;
        case Qt::Key_0:
        case Qt::Key_F:
            fit();
            break;
        case Qt::Key_1:
            actualSize();
            break;
        case Qt::Key_Left:
            panBy({step, 0});
            break;
        case Qt::Key_Right:
            panBy({-step, 0});
            break;
        case Qt::Key_Up:
            panBy({0, step});
            break;
        case Qt::Key_Down:
            panBy({0, -step});
            break;
        default:
            QWidget::keyPressEvent(event);
            return;
    }
    event->accept();
}

}  // namespace qs::widgets
