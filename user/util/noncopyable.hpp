// A base for classes that own something (a thread, a kernel object, a
// handle) and so must not be copied: derive from it privately instead of
// deleting the copy constructor and assignment in each class. Like
// boost::noncopyable it declares no move either, so a class that should move
// declares its own move constructor and assignment.
#pragma once

namespace ow {

class NonCopyable {
 public:
  NonCopyable(const NonCopyable&) = delete;
  NonCopyable& operator=(const NonCopyable&) = delete;

 protected:
  NonCopyable() = default;
  ~NonCopyable() = default;
};

}  // namespace ow
