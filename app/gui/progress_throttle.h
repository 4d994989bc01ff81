// Progress from a worker thread reaches the GUI at most every ~30 ms (and always at the end),
// so a fast model does not flood the event queue with one queued signal per op.
#pragma once

#include <QElapsedTimer>

namespace qs::app {

class ProgressThrottle {
public:
    bool due(int done, int total) {
        if (done >= total || !m_timer.isValid() || m_timer.elapsed() >= 30) {
            m_timer.start();
            return true;
        }
        return false;
    }

private:
    QElapsedTimer m_timer;
};

}  // namespace qs::app
